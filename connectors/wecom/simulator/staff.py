"""The simulated corp's staff-side tasks: moments (朋友圈) and customer transfers (客户继承)."""

from __future__ import annotations

from connectors.wecom.simulator.state import (
    NO_RELATION,
    TRANSFER_TOO_OFTEN,
    Body,
    Follow,
    new_id,
    require,
)
from connectors.wecom.simulator.tasks import CorpTasks, content, page

TRANSFER_DONE, TRANSFER_WAITING, TRANSFER_REFUSED = 1, 2, 3
TRANSFER_WINDOW = 90 * 86_400.0
TAKEOVER_DELAY = 86_400.0
MAX_TRANSFERS = 2
MAX_TRANSFER_BATCH = 100


class CorpStaffTasks(CorpTasks):
    """Moments and transfers: the last layer of the simulated corp."""

    # --- moments --------------------------------------------------------------------------

    def add_moment_task(self, body: Body) -> Body:
        text, attachments = content(body)
        jobid = new_id("job")
        self.moments[jobid] = {
            "jobid": jobid,
            "moment_id": new_id("mom"),
            "text": text,
            "attachments": attachments,
            "visible_range": body.get("visible_range") or {},
            "create_time": int(self.now()),
        }
        return {"jobid": jobid}

    def get_moment_task_result(self, query: Body) -> Body:
        job = self.moments.get(str(query.get("jobid")))
        require(job is not None, "invalid jobid")
        assert job is not None
        result = {
            "errcode": 0,
            "errmsg": "ok",
            "moment_id": job["moment_id"],
            "invalid_sender_list": {"user_list": [], "department_list": []},
            "invalid_external_contact_list": {"tag_list": []},
        }
        return {"status": 3, "type": "add_moment_task", "result": result}

    # --- customer transfer ----------------------------------------------------------------

    def transfer_customer(self, body: Body, *, resigned: bool = False) -> Body:
        self.settle_transfers()
        handover, takeover = body.get("handover_userid"), body.get("takeover_userid")
        require(bool(handover) and bool(takeover) and handover != takeover, "invalid userid")
        ids = body.get("external_userid") or []
        require(
            isinstance(ids, list) and 1 <= len(ids) <= MAX_TRANSFER_BATCH, "invalid external_userid"
        )
        now = self.now()
        answers = []
        for external_userid in ids:
            customer = self.customers.get(external_userid)
            recent = [
                t
                for t in self.transfers
                if t["external_userid"] == external_userid
                and now - t["requested_at"] < TRANSFER_WINDOW
            ]
            if customer is None or handover not in customer.follows:
                errcode = NO_RELATION
            elif len(recent) >= MAX_TRANSFERS:
                errcode = TRANSFER_TOO_OFTEN
            else:
                errcode = 0
                self.transfers.append(
                    {
                        "external_userid": external_userid,
                        "handover_userid": handover,
                        "takeover_userid": takeover,
                        "resigned": resigned,
                        "requested_at": now,
                        "status": TRANSFER_WAITING,
                        "takeover_time": int(now + TAKEOVER_DELAY),
                    }
                )
            answers.append({"external_userid": external_userid, "errcode": errcode})
        return {"customer": answers}

    def settle_transfers(self) -> None:
        """Takeovers complete 24 h after the request, as on WeCom."""
        now = self.now()
        for transfer in self.transfers:
            if transfer["status"] != TRANSFER_WAITING or now < transfer["takeover_time"]:
                continue
            customer = self.customers.get(transfer["external_userid"])
            old = customer.follows.pop(transfer["handover_userid"], None) if customer else None
            if customer is None or old is None:
                transfer["status"] = TRANSFER_REFUSED
                continue
            takeover = transfer["takeover_userid"]
            customer.follows[takeover] = Follow(takeover, old.state, int(now), set(old.tags))
            transfer["status"] = TRANSFER_DONE

    def transfer_result(self, body: Body, *, resigned: bool = False) -> Body:
        self.settle_transfers()
        rows = [
            {k: t[k] for k in ("external_userid", "status", "takeover_time")}
            for t in self.transfers
            if t["handover_userid"] == body.get("handover_userid")
            and t["takeover_userid"] == body.get("takeover_userid")
            and t["resigned"] == resigned
        ]
        items, cursor = page(rows, body)
        return {"customer": items, "next_cursor": cursor}
