"""The simulated corp's mass-message tasks (客户群发) with per-customer allowances, and tags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.wecom.simulator.state import (
    INVALID_TAG,
    MAX_ATTACHMENTS,
    NO_RELATION,
    Body,
    new_id,
    require,
)
from connectors.wecom.simulator.ways import CorpWays
from domain.channels import allowance_for

# Per-customer result of a mass message (get_groupmsg_send_result).
NOT_SENT, SENT, NOT_A_FRIEND, LIMIT_REACHED = 0, 1, 2, 3
# get_groupmsg_list_v2: who created a task (create_type) and which ones to list (filter_type).
CREATED_BY_CORP, CREATED_BY_STAFF, ANY_CREATOR = 0, 1, 2
# get_groupmsg_list_v2 lists one month at most, 100 tasks a page (50 unless asked).
MAX_LIST_SPAN = 31 * 86_400
MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT = 100, 50


def content(body: Body) -> tuple[str, list[Any]]:
    attachments = body.get("attachments") or []
    require(
        isinstance(attachments, list) and len(attachments) <= MAX_ATTACHMENTS, "invalid attachments"
    )
    text = (body.get("text") or {}).get("content", "")
    require(bool(text) or bool(attachments), "text and attachments are both empty")
    return str(text), attachments


def page(items: list[Body], body: Body) -> tuple[list[Body], str]:
    start = int(body.get("cursor") or 0)
    limit = max(1, min(int(body.get("limit") or 500), 1000))
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else "")


CANCELLED_PART = -1
"""A staff member's part of a task that was cancelled before they sent it."""


class CorpTasks(CorpWays):
    """Mass-message tasks and corp tags."""

    # --- mass messages --------------------------------------------------------------------

    def add_msg_template(self, body: Body) -> Body:
        chat_type = body.get("chat_type") or "single"
        require(chat_type in ("single", "group"), "invalid chat_type")
        text, attachments = content(body)
        sender = body.get("sender")
        rows: list[Body] = []
        fail_list: list[str] = []
        if chat_type == "single":
            ids = body.get("external_userid") or []
            require(isinstance(ids, list) and len(ids) <= 10_000, "invalid external_userid")
            require(bool(ids) or bool(sender), "external_userid and sender are both empty")
            if not ids:
                ids = [c.external_userid for c in self.customers.values() if sender in c.follows]
            for external_userid in ids:
                customer = self.customers.get(external_userid)
                staff = [sender] if sender else list(customer.follows) if customer else []
                staff = [s for s in staff if customer is not None and s in customer.follows]
                if not staff:
                    fail_list.append(external_userid)
                    continue
                rows.append(
                    {"external_userid": external_userid, "userid": staff[0], "status": NOT_SENT}
                )
        else:
            require(bool(sender), "sender is required for group messages")
            wanted = body.get("chat_id_list") or None
            for chat in self.chats.values():
                if chat["owner"] == sender and (wanted is None or chat["chat_id"] in wanted):
                    rows.append({"chat_id": chat["chat_id"], "userid": sender, "status": NOT_SENT})
        msgid = new_id("msg")
        self.msg_tasks[msgid] = {
            "msgid": msgid,
            "chat_type": chat_type,
            "sender": sender,
            "text": text,
            "attachments": attachments,
            "create_time": int(self.now()),
            "tasks": {row["userid"]: {"userid": row["userid"], "status": 0} for row in rows},
            "results": rows,
            "fail_list": fail_list,
        }
        return {"fail_list": fail_list, "msgid": msgid}

    def _task(self, body: Body) -> Body:
        task = self.msg_tasks.get(str(body.get("msgid")))
        require(task is not None, "invalid msgid")
        assert task is not None
        return task

    def allowance(self, at: float) -> tuple[str, int]:
        """The allowance period containing `at` and its cap (the override, if configured)."""
        period, cap = allowance_for(self.mass_limit, datetime.fromtimestamp(at, UTC))
        return period, (self.monthly_limit if self.monthly_limit is not None else cap)

    def cancel_groupmsg_send(self, body: Body) -> Body:
        """`cancel_groupmsg_send`: stop a task; staff who have not sent their part cannot any
        more (their part shows status `CANCELLED_PART`, their customers stay not sent)."""
        task = self.msg_tasks.get(str(body.get("msgid")))
        require(task is not None, "invalid msgid")
        assert task is not None
        task["cancelled"] = True
        for part in task["tasks"].values():
            if part["status"] == 0:
                part["status"] = CANCELLED_PART
        return {}

    def confirm(self, msgid: str, userid: str) -> list[Body]:
        """Staff `userid` confirms (sends) their part of task `msgid`; their result rows."""
        task = self.msg_tasks.get(msgid)
        if task is None or userid not in task["tasks"]:
            raise LookupError(f"no mass-message task {msgid!r} for staff {userid!r}")
        if task.get("cancelled"):
            raise LookupError(f"mass-message task {msgid!r} was cancelled")
        now = int(self.now())
        task["tasks"][userid].update(status=2, send_time=now)
        period, cap = self.allowance(now)
        mine = [r for r in task["results"] if r["userid"] == userid and r["status"] == NOT_SENT]
        for row in mine:
            if "external_userid" in row:
                customer = self.customers.get(row["external_userid"])
                key = (row["external_userid"], period)
                if customer is None or userid not in customer.follows:
                    row["status"] = NOT_A_FRIEND
                elif self.received.get(key, 0) >= cap:
                    row["status"] = LIMIT_REACHED
                else:
                    self.received[key] = self.received.get(key, 0) + 1
                    row.update(status=SENT, send_time=now)
            else:
                row.update(status=SENT, send_time=now)
        return mine

    def get_groupmsg_list_v2(self, body: Body) -> Body:
        """The tasks created between start_time and end_time (at most a month apart), oldest
        first; API-created tasks (add_msg_template) have create_type 0 (the corp)."""
        chat_type = body.get("chat_type")
        require(chat_type in ("single", "group"), "invalid chat_type")
        start, end = body.get("start_time"), body.get("end_time")
        require(
            isinstance(start, int) and isinstance(end, int) and 0 <= start <= end,
            "invalid start_time or end_time",
        )
        assert isinstance(start, int) and isinstance(end, int)
        require(end - start <= MAX_LIST_SPAN, "time range exceeds one month")
        filter_type = body.get("filter_type", ANY_CREATOR)
        require(
            filter_type in (CREATED_BY_CORP, CREATED_BY_STAFF, ANY_CREATOR), "invalid filter_type"
        )
        limit = body.get("limit") or DEFAULT_LIST_LIMIT
        require(isinstance(limit, int) and 0 < limit <= MAX_LIST_LIMIT, "invalid limit")
        creator = body.get("creator")
        rows = [
            {
                "msgid": task["msgid"],
                "creator": task["sender"],
                "create_time": str(task["create_time"]),
                "create_type": CREATED_BY_CORP,
                "text": {"content": task["text"]},
                "attachments": task["attachments"],
            }
            for task in self.msg_tasks.values()
            if task["chat_type"] == chat_type
            and start <= task["create_time"] <= end
            and (not creator or task["sender"] == creator)
            and filter_type in (CREATED_BY_CORP, ANY_CREATOR)
        ]
        items, cursor = page(rows, {"cursor": body.get("cursor"), "limit": limit})
        return {"group_msg_list": items, "next_cursor": cursor}

    def get_groupmsg_task(self, body: Body) -> Body:
        items, cursor = page(list(self._task(body)["tasks"].values()), body)
        return {"task_list": [dict(item) for item in items], "next_cursor": cursor}

    def get_groupmsg_send_result(self, body: Body) -> Body:
        task = self._task(body)
        rows = [r for r in task["results"] if r["userid"] == body.get("userid")]
        items, cursor = page(rows, body)
        return {"send_list": [dict(item) for item in items], "next_cursor": cursor}

    # --- tags -----------------------------------------------------------------------------

    def add_corp_tag(self, name: str, group_name: str = "default") -> str:
        """A corp tag (created in group `group_name`, created if new); its tag id."""
        return str(
            self.add_corp_tag_api({"group_name": group_name, "tag": [{"name": name}]})["tag_group"][
                "tag"
            ][0]["id"]
        )

    def add_corp_tag_api(self, body: Body) -> Body:
        tags = body.get("tag") or []
        require(isinstance(tags, list) and bool(tags), "tag must not be empty")
        group = self.tag_groups.get(str(body.get("group_id")))
        if group is None:
            name = body.get("group_name")
            group = next((g for g in self.tag_groups.values() if g["group_name"] == name), None)
        if group is None:
            require(bool(body.get("group_name")), "group_id or group_name required")
            group_id = new_id("et")
            group = {
                "group_id": group_id,
                "group_name": body["group_name"],
                "create_time": int(self.now()),
                "order": 0,
                "tag": [],
            }
            self.tag_groups[group_id] = group
        created = []
        for tag in tags:
            require(bool(tag.get("name")), "tag name must not be empty")
            existing = next((t for t in group["tag"] if t["name"] == tag["name"]), None)
            if existing is None:
                existing = {
                    "id": new_id("et"),
                    "name": tag["name"],
                    "create_time": int(self.now()),
                    "order": tag.get("order", 0),
                }
                group["tag"].append(existing)
            created.append(existing)
        return {"tag_group": {**group, "tag": created}}

    def tag_ids(self) -> set[str]:
        return {tag["id"] for group in self.tag_groups.values() for tag in group["tag"]}

    def get_corp_tag_list(self, body: Body) -> Body:
        tag_ids, group_ids = set(body.get("tag_id") or []), set(body.get("group_id") or [])
        groups = []
        for group in self.tag_groups.values():
            if group_ids and group["group_id"] not in group_ids:
                continue
            tags = [t for t in group["tag"] if not tag_ids or t["id"] in tag_ids]
            if tags or not tag_ids:
                groups.append({**group, "tag": tags})
        return {"tag_group": groups}

    def mark_tag(self, body: Body) -> Body:
        add, remove = list(body.get("add_tag") or []), list(body.get("remove_tag") or [])
        require(bool(add) or bool(remove), "add_tag and remove_tag are both empty")
        customer = self.customer(body.get("external_userid"))
        follow = customer.follows.get(str(body.get("userid")))
        require(follow is not None, "no contact relation", NO_RELATION)
        require(set(add + remove) <= self.tag_ids(), "invalid tag id", INVALID_TAG)
        assert follow is not None
        follow.tags |= set(add)
        follow.tags -= set(remove)
        return {}

    @property
    def tags(self) -> dict[tuple[str, str], set[str]]:
        """Tags per (staff userid, external_userid)."""
        return {
            (follow.userid, customer.external_userid): set(follow.tags)
            for customer in self.customers.values()
            for follow in customer.follows.values()
        }
