"""The simulated corp's codes: contact ways (渠道活码), customer groups and join ways (群活码)."""

from __future__ import annotations

from connectors.wecom.simulator.state import (
    JOIN_SCENE_QR,
    MAX_JOIN_WAY_CHATS,
    MAX_ROOM_BASE_NAME,
    Body,
    CorpState,
    check_state,
    new_id,
    require,
)


class CorpWays(CorpState):
    """Contact ways, groups and join ways of the simulated corp."""

    # --- contact ways (渠道活码) ----------------------------------------------------------

    def add_contact_way(self, body: Body) -> Body:
        kind, scene = body.get("type"), body.get("scene")
        require(kind in (1, 2), "invalid type")
        require(scene in (1, 2), "invalid scene")
        users = body.get("user") or []
        require(isinstance(users, list) and bool(users), "user must not be empty")
        require(kind == 2 or len(users) == 1, "type 1 takes exactly one user")
        config_id = new_id("")
        self.contact_ways[config_id] = {
            "config_id": config_id,
            "type": kind,
            "scene": scene,
            "remark": body.get("remark", ""),
            "skip_verify": bool(body.get("skip_verify", True)),
            "state": check_state(body.get("state")),
            "user": list(users),
            "qr_code": f"https://wecom-sim.invalid/qr/{config_id}.png" if scene == 2 else "",
        }
        return {"config_id": config_id, "qr_code": self.contact_ways[config_id]["qr_code"]}

    def _contact_way(self, body: Body) -> Body:
        way = self.contact_ways.get(str(body.get("config_id")))
        require(way is not None, "invalid config_id")
        assert way is not None
        return way

    def get_contact_way(self, body: Body) -> Body:
        return {"contact_way": dict(self._contact_way(body))}

    def update_contact_way(self, body: Body) -> Body:
        way = self._contact_way(body)
        if "state" in body:
            way["state"] = check_state(body["state"])
        if "user" in body:
            require(isinstance(body["user"], list) and bool(body["user"]), "invalid user")
            way["user"] = list(body["user"])
        for key in ("remark", "skip_verify", "style"):
            if key in body:
                way[key] = body[key]
        return {}

    def del_contact_way(self, body: Body) -> Body:
        self.contact_ways.pop(self._contact_way(body)["config_id"])
        return {}

    def contact_way_by_state(self, state: str) -> Body | None:
        return next((w for w in self.contact_ways.values() if w["state"] == state), None)

    # --- groups and join ways (群活码) ----------------------------------------------------

    def create_chat(
        self, owner: str = "zhangsan", name: str | None = None, chat_id: str | None = None
    ) -> str:
        """A customer group owned by `owner`; join ways may name it."""
        chat_id = chat_id or new_id("wr")
        self.chats[chat_id] = {
            "chat_id": chat_id,
            "name": name or f"group-{chat_id[-6:]}",
            "owner": owner,
            "create_time": int(self.now()),
            "member_list": [],
            "admin_list": [],
        }
        return chat_id

    def _check_join_way(self, body: Body, *, partial: bool) -> None:
        if not partial or "scene" in body:
            require(body.get("scene") in (1, 2), "invalid scene")
        if not partial or "chat_id_list" in body:
            chats = body.get("chat_id_list")
            require(
                isinstance(chats, list) and 1 <= len(chats) <= MAX_JOIN_WAY_CHATS,
                "invalid chat_id_list",
            )
            for chat_id in chats or []:
                if chat_id not in self.chats:  # groups a join way names exist from then on
                    self.create_chat(chat_id=str(chat_id))
        name = body.get("room_base_name")
        require(
            name is None or (isinstance(name, str) and len(name) <= MAX_ROOM_BASE_NAME),
            "invalid room_base_name",
        )
        require(body.get("auto_create_room", 0) in (0, 1), "invalid auto_create_room")

    def add_join_way(self, body: Body) -> Body:
        self._check_join_way(body, partial=False)
        config_id = new_id("")
        self.join_ways[config_id] = {
            "config_id": config_id,
            "scene": body["scene"],
            "remark": body.get("remark", ""),
            "auto_create_room": body.get("auto_create_room", 0),
            "room_base_name": body.get("room_base_name", ""),
            "room_base_id": body.get("room_base_id", 1),
            "chat_id_list": list(body["chat_id_list"]),
            "state": check_state(body.get("state")),
            "qr_code": f"https://wecom-sim.invalid/join/{config_id}.png",
        }
        # Like WeCom, only the config id comes back; the QR code is read with get_join_way.
        return {"config_id": config_id}

    def _join_way(self, body: Body) -> Body:
        way = self.join_ways.get(str(body.get("config_id")))
        require(way is not None, "invalid config_id")
        assert way is not None
        return way

    def get_join_way(self, body: Body) -> Body:
        return {"join_way": dict(self._join_way(body))}

    def update_join_way(self, body: Body) -> Body:
        way = self._join_way(body)
        self._check_join_way(body, partial=True)
        if "state" in body:
            way["state"] = check_state(body["state"])
        for key in ("scene", "remark", "auto_create_room", "room_base_name", "room_base_id"):
            if key in body:
                way[key] = body[key]
        if "chat_id_list" in body:
            way["chat_id_list"] = list(body["chat_id_list"])
        return {}

    def del_join_way(self, body: Body) -> Body:
        self.join_ways.pop(self._join_way(body)["config_id"])
        return {}

    def join(self, external_userid: str, way_key: str) -> tuple[str, Body]:
        """The customer joins through a join way (config id or state): (chat_id, join way)."""
        way = self.join_ways.get(way_key) or next(
            (w for w in self.join_ways.values() if w["state"] == way_key), None
        )
        if way is None:
            raise LookupError(f"no join way with config id or state {way_key!r}")
        open_chats = [
            c
            for c in way["chat_id_list"]
            if len(self.chats[c]["member_list"]) < self.group_capacity
        ]
        if open_chats:
            chat_id = open_chats[0]
        elif way["auto_create_room"]:
            number = int(way["room_base_id"] or 1) + len(way["chat_id_list"])
            chat_id = self.create_chat(
                self.chats[way["chat_id_list"][0]]["owner"], f"{way['room_base_name']}{number}"
            )
            way["chat_id_list"].append(chat_id)
        else:
            raise LookupError("every group of the join way is full")
        member: Body = {
            "userid": external_userid,
            "type": 2,
            "join_time": int(self.now()),
            "join_scene": JOIN_SCENE_QR,
        }
        if way["state"]:
            member["state"] = way["state"]
        customer = self.customers.get(external_userid)
        if customer is not None and customer.unionid:
            member["unionid"] = customer.unionid
        self.chats[chat_id]["member_list"].append(member)
        return chat_id, way

    def groupchat_get(self, body: Body) -> Body:
        chat = self.chats.get(str(body.get("chat_id")))
        require(chat is not None, "invalid chat_id")
        return {"group_chat": dict(chat or {})}
