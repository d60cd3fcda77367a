"""The WeCom simulator over real sockets, and its driver against a local callback receiver."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from connectors.wecom.crypto import CallbackVerificationError, WeComCrypto
from connectors.wecom.envelope import open_callback, verify_url
from connectors.wecom.simulator import WeComDriver, WeComSimulator
from connectors.wecom.simulator.server import serve_asgi

CORP = "ww-test"
SECRET = "s3cret"
TOKEN = "cb-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode()[:-1]
FEB_2025 = datetime(2025, 2, 10, 4, 0, tzinfo=UTC).timestamp()  # noon in Shanghai


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = FEB_2025) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Api:
    """Calls the simulator the way a WeCom client does."""

    http: httpx.AsyncClient
    base_url: str
    token: str = ""

    async def login(self) -> str:
        answer = await self.get("gettoken", corpid=CORP, corpsecret=SECRET, token=False)
        assert answer["errcode"] == 0 and answer["expires_in"] > 0
        self.token = answer["access_token"]
        return self.token

    async def get(self, path: str, *, token: bool = True, **query: Any) -> dict[str, Any]:
        params = {**query, **({"access_token": self.token} if token else {})}
        response = await self.http.get(self.base_url + path, params=params)
        assert response.status_code == 200
        return dict(response.json())

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            self.base_url + path, params={"access_token": self.token}, json=body or {}
        )
        assert response.status_code == 200
        return dict(response.json())


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> WeComSimulator:
    return WeComSimulator(CORP, SECRET, clock=clock)


@pytest.fixture
async def api(sim: WeComSimulator, http: httpx.AsyncClient) -> AsyncIterator[Api]:
    async with sim.serve() as base_url:
        client = Api(http, base_url)
        await client.login()
        yield client


# --- tokens, limits, injected failures --------------------------------------------------------


async def test_serve_answers_on_loopback_and_closes_its_port_on_exit(
    sim: WeComSimulator, http: httpx.AsyncClient
) -> None:
    async with sim.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/cgi-bin/")
        answer = await Api(http, base_url).get("gettoken", corpid=CORP, corpsecret="x", token=False)
        assert answer["errcode"] == 40001
    with pytest.raises(httpx.ConnectError):
        await http.get(base_url + "gettoken")


async def test_gettoken_refuses_a_wrong_corp_or_secret(api: Api) -> None:
    assert (await api.get("gettoken", corpid="ww-other", corpsecret=SECRET, token=False))[
        "errcode"
    ] == 40013
    assert (await api.get("gettoken", corpid=CORP, corpsecret="wrong", token=False))[
        "errcode"
    ] == 40001


async def test_calls_need_a_known_unexpired_token(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    answer = await api.get("gettoken", corpid=CORP, corpsecret=SECRET, token=False)
    assert answer["expires_in"] == 7200 and answer["access_token"] != api.token
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 0
    good = api.token
    api.token = "forged"
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 40014
    api.token = ""
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 41001
    api.token = good
    clock.advance(7200)
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 42001
    await api.login()
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 0
    sim.expire_tokens()
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 42001


async def test_frequency_limit_answers_45009_until_the_minute_passes(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    sim.per_minute = 3
    codes = [(await api.post("externalcontact/get_corp_tag_list"))["errcode"] for _ in range(4)]
    assert codes == [0, 0, 0, 45009]
    # Another API has its own allowance.
    assert (await api.post("externalcontact/add_moment_task", {"text": {"content": "hi"}}))[
        "errcode"
    ] == 0
    clock.advance(60)
    assert (await api.post("externalcontact/get_corp_tag_list"))["errcode"] == 0


async def test_injected_failures_come_first_then_the_call_succeeds(
    api: Api, sim: WeComSimulator, http: httpx.AsyncClient
) -> None:
    path = "externalcontact/get_corp_tag_list"
    sim.fail_next(path, -1, times=2)
    sim.fail_next("/" + path, 500)
    assert (await api.post(path))["errcode"] == -1
    assert (await api.post(path))["errcode"] == -1
    response = await http.post(api.base_url + path, params={"access_token": api.token}, json={})
    assert response.status_code == 500
    assert (await api.post(path))["errcode"] == 0


async def test_a_lost_answer_still_takes_effect(
    api: Api, sim: WeComSimulator, http: httpx.AsyncClient
) -> None:
    customer = sim.add_customer("zhangsan", "s").external_userid
    sim.lose_answer_next("externalcontact/add_msg_template")

    response = await http.post(
        api.base_url + "externalcontact/add_msg_template",
        params={"access_token": api.token},
        json={"external_userid": [customer], "sender": "zhangsan", "text": {"content": "x"}},
    )

    assert response.status_code == 502
    assert len(sim.msg_tasks) == 1
    assert (await mass_message(api, customer))["errcode"] == 0  # only the next answer is lost


async def test_wrong_method_unknown_path_and_bad_json_are_refused(
    api: Api, http: httpx.AsyncClient
) -> None:
    params = {"access_token": api.token}
    wrong_method = await http.get(api.base_url + "externalcontact/mark_tag", params=params)
    assert wrong_method.status_code == 405
    unknown = await http.post(api.base_url + "externalcontact/nope", params=params, json={})
    assert unknown.status_code == 404
    bad = await http.post(api.base_url + "externalcontact/mark_tag", params=params, content=b"{")
    assert bad.json()["errcode"] == 47001


# --- customers and the welcome message ------------------------------------------------------


async def test_customer_detail_carries_unionid_and_the_state_of_the_scanned_code(
    api: Api, sim: WeComSimulator
) -> None:
    customer = sim.add_customer("zhangsan", "douyin-ad", unionid="ow-union-1")
    detail = await api.get("externalcontact/get", external_userid=customer.external_userid)
    assert detail["external_contact"]["unionid"] == "ow-union-1"
    assert [(f["userid"], f["state"]) for f in detail["follow_user"]] == [("zhangsan", "douyin-ad")]
    sim.remove_follow(customer.external_userid, "zhangsan")
    gone = await api.get("externalcontact/get", external_userid=customer.external_userid)
    assert gone["errcode"] == 84061
    assert (await api.get("externalcontact/get", external_userid="wm-nobody"))["errcode"] == 84061


async def welcome(api: Api, code: str | None) -> int:
    answer = await api.post(
        "externalcontact/send_welcome_msg",
        {"welcome_code": code, "text": {"content": "欢迎"}},
    )
    return int(answer["errcode"])


async def test_welcome_code_is_one_shot(api: Api, sim: WeComSimulator) -> None:
    customer = sim.add_customer("zhangsan", "s")
    code = sim.mint_welcome_code(customer.external_userid, "zhangsan")
    assert await welcome(api, code) == 0
    assert await welcome(api, code) == 41051
    assert [(w["external_userid"], w["text"]) for w in sim.welcomes] == [
        (customer.external_userid, "欢迎")
    ]


async def test_welcome_code_expires_after_its_window(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    customer = sim.add_customer("zhangsan", "s")
    code = sim.mint_welcome_code(customer.external_userid, "zhangsan")
    clock.advance(20.5)
    assert await welcome(api, code) == 40058
    assert await welcome(api, "never-minted") == 40058
    assert sim.welcomes == []


async def test_welcome_busy_is_injectable_and_the_code_stays_usable(
    api: Api, sim: WeComSimulator
) -> None:
    customer = sim.add_customer("zhangsan", "s")
    code = sim.mint_welcome_code(customer.external_userid, "zhangsan")
    sim.fail_next("externalcontact/send_welcome_msg", 41096)
    assert await welcome(api, code) == 41096
    assert await welcome(api, code) == 0


# --- contact ways and join ways -------------------------------------------------------------


async def test_contact_way_lifecycle_and_state_limit(api: Api, sim: WeComSimulator) -> None:
    way = {"type": 1, "scene": 2, "user": ["zhangsan"], "skip_verify": True}
    too_long = await api.post("externalcontact/add_contact_way", {**way, "state": "s" * 31})
    assert too_long["errcode"] == 40058
    added = await api.post("externalcontact/add_contact_way", {**way, "state": "s" * 30})
    assert added["errcode"] == 0 and added["config_id"] and added["qr_code"]
    config = {"config_id": added["config_id"]}
    update = {**config, "user": ["lisi"], "remark": "spring"}
    assert (await api.post("externalcontact/update_contact_way", update))["errcode"] == 0
    got = await api.post("externalcontact/get_contact_way", config)
    assert got["contact_way"]["user"] == ["lisi"] and got["contact_way"]["state"] == "s" * 30
    assert (await api.post("externalcontact/del_contact_way", config))["errcode"] == 0
    assert (await api.post("externalcontact/get_contact_way", config))["errcode"] == 40058
    assert sim.contact_ways == {}


async def test_join_way_takes_at_most_five_groups_and_answers_only_its_config_id(
    api: Api, sim: WeComSimulator
) -> None:
    base = {"scene": 2, "auto_create_room": 1, "room_base_name": "会员群", "state": "grp"}
    six = await api.post(
        "externalcontact/groupchat/add_join_way",
        {**base, "chat_id_list": [f"wr{i}" for i in range(6)]},
    )
    assert six["errcode"] == 40058
    added = await api.post(
        "externalcontact/groupchat/add_join_way", {**base, "chat_id_list": ["wr1"]}
    )
    assert set(added) == {"errcode", "errmsg", "config_id"}
    got = await api.post(
        "externalcontact/groupchat/get_join_way", {"config_id": added["config_id"]}
    )
    assert got["join_way"]["qr_code"] and got["join_way"]["state"] == "grp"
    assert sim.join_ways[added["config_id"]]["chat_id_list"] == ["wr1"]


async def test_full_groups_spill_into_an_automatically_created_room(
    api: Api, sim: WeComSimulator
) -> None:
    sim.group_capacity = 1
    added = await api.post(
        "externalcontact/groupchat/add_join_way",
        {
            "scene": 2,
            "chat_id_list": ["wr1"],
            "auto_create_room": 1,
            "room_base_name": "会员群",
            "room_base_id": 1,
            "state": "grp",
        },
    )
    first, _ = sim.join("wm1", "grp")
    second, _ = sim.join("wm2", added["config_id"])
    assert first == "wr1" and second != "wr1"
    chat = await api.post("externalcontact/groupchat/get", {"chat_id": second})
    assert chat["group_chat"]["name"] == "会员群2"
    assert [
        (m["userid"], m["join_scene"], m["state"]) for m in chat["group_chat"]["member_list"]
    ] == [("wm2", 3, "grp")]


# --- mass messages --------------------------------------------------------------------------


async def mass_message(api: Api, *external_userids: str) -> dict[str, Any]:
    return await api.post(
        "externalcontact/add_msg_template",
        {
            "chat_type": "single",
            "external_userid": list(external_userids),
            "sender": "zhangsan",
            "text": {"content": "会员日"},
        },
    )


async def send_results(api: Api, msgid: str) -> dict[str, int]:
    answer = await api.post(
        "externalcontact/get_groupmsg_send_result", {"msgid": msgid, "userid": "zhangsan"}
    )
    return {row["external_userid"]: row["status"] for row in answer["send_list"]}


async def test_mass_message_is_a_task_until_staff_confirm_it(api: Api, sim: WeComSimulator) -> None:
    friend = sim.add_customer("zhangsan", "s").external_userid
    leaver = sim.add_customer("zhangsan", "s").external_userid
    stranger = sim.add_customer("lisi", "s").external_userid
    created = await mass_message(api, friend, leaver, stranger)
    assert created["errcode"] == 0 and created["fail_list"] == [stranger]
    msgid = created["msgid"]
    assert await send_results(api, msgid) == {friend: 0, leaver: 0}
    task = await api.post("externalcontact/get_groupmsg_task", {"msgid": msgid})
    assert [(t["userid"], t["status"]) for t in task["task_list"]] == [("zhangsan", 0)]
    sim.remove_follow(leaver, "zhangsan")
    driver = WeComDriver(
        sim,
        callback_url="http://127.0.0.1:9/",
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        http=api.http,
    )
    await driver.confirm_mass_message(msgid, "zhangsan")
    assert await send_results(api, msgid) == {friend: 1, leaver: 2}
    task = await api.post("externalcontact/get_groupmsg_task", {"msgid": msgid})
    assert [(t["userid"], t["status"]) for t in task["task_list"]] == [("zhangsan", 2)]
    assert (await api.post("externalcontact/get_groupmsg_task", {"msgid": "nope"}))[
        "errcode"
    ] == 40058


async def test_groupmsg_list_v2_lists_the_senders_tasks_in_a_window_of_a_month_at_most(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    customer = sim.add_customer("zhangsan", "s").external_userid
    first = (await mass_message(api, customer))["msgid"]
    clock.advance(3600)
    second = (await mass_message(api, customer))["msgid"]
    body = {"chat_type": "single", "creator": "zhangsan", "filter_type": 0}
    start, end = int(FEB_2025), int(clock.now)

    answer = await api.post(
        "externalcontact/get_groupmsg_list_v2",
        {**body, "start_time": start, "end_time": end, "limit": 1},
    )
    assert answer["errcode"] == 0 and answer["next_cursor"]
    [task] = answer["group_msg_list"]
    assert task["msgid"] == first and task["creator"] == "zhangsan"
    assert task["create_type"] == 0 and task["text"] == {"content": "会员日"}
    rest = await api.post(
        "externalcontact/get_groupmsg_list_v2",
        {**body, "start_time": start, "end_time": end, "cursor": answer["next_cursor"]},
    )
    assert [t["msgid"] for t in rest["group_msg_list"]] == [second] and not rest["next_cursor"]
    later = await api.post(
        "externalcontact/get_groupmsg_list_v2", {**body, "start_time": start + 1, "end_time": end}
    )
    assert [t["msgid"] for t in later["group_msg_list"]] == [second]
    for wrong in (
        {**body, "start_time": start, "end_time": start + 32 * 86_400},
        {**body, "start_time": end, "end_time": start},
        {**body, "chat_type": "both", "start_time": start, "end_time": end},
        {**body, "start_time": start, "end_time": end, "limit": 101},
    ):
        assert (await api.post("externalcontact/get_groupmsg_list_v2", wrong))["errcode"] == 40058
    staff_made = await api.post(
        "externalcontact/get_groupmsg_list_v2",
        {**body, "filter_type": 1, "start_time": start, "end_time": end},
    )
    assert staff_made["group_msg_list"] == []


async def test_monthly_limit_is_the_days_in_the_month_then_status_3(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    customer = sim.add_customer("zhangsan", "s").external_userid
    statuses = []
    for _ in range(29):  # February 2025 has 28 days
        msgid = (await mass_message(api, customer))["msgid"]
        sim.confirm(msgid, "zhangsan")
        statuses.append((await send_results(api, msgid))[customer])
    assert statuses == [1] * 28 + [3]
    clock.advance(20 * 86_400)  # March: a new allowance
    await api.login()
    msgid = (await mass_message(api, customer))["msgid"]
    sim.confirm(msgid, "zhangsan")
    assert (await send_results(api, msgid))[customer] == 1


async def test_a_configured_lower_limit_applies(api: Api, sim: WeComSimulator) -> None:
    sim.monthly_limit = 2
    customer = sim.add_customer("zhangsan", "s").external_userid
    statuses = []
    for _ in range(3):
        msgid = (await mass_message(api, customer))["msgid"]
        sim.confirm(msgid, "zhangsan")
        statuses.append((await send_results(api, msgid))[customer])
    assert statuses == [1, 1, 3]


async def test_group_message_goes_to_the_senders_groups(api: Api, sim: WeComSimulator) -> None:
    mine, _ = sim.create_chat("zhangsan"), sim.create_chat("lisi")
    created = await api.post(
        "externalcontact/add_msg_template",
        {"chat_type": "group", "sender": "zhangsan", "text": {"content": "群公告"}},
    )
    rows = sim.confirm(created["msgid"], "zhangsan")
    assert [(r["chat_id"], r["status"]) for r in rows] == [(mine, 1)]


# --- tags, moments, transfers ---------------------------------------------------------------


async def test_mark_tag_checks_relation_and_tag_ids(api: Api, sim: WeComSimulator) -> None:
    customer = sim.add_customer("zhangsan", "s").external_userid
    created = await api.post(
        "externalcontact/add_corp_tag", {"group_name": "来源", "tag": [{"name": "douyin"}]}
    )
    tag_id = created["tag_group"]["tag"][0]["id"]
    mark = {"userid": "zhangsan", "external_userid": customer}
    assert (await api.post("externalcontact/mark_tag", mark))["errcode"] == 40058
    assert (await api.post("externalcontact/mark_tag", {**mark, "add_tag": ["et-x"]}))[
        "errcode"
    ] == 40068
    stranger = {**mark, "userid": "lisi", "add_tag": [tag_id]}
    assert (await api.post("externalcontact/mark_tag", stranger))["errcode"] == 84061
    assert (await api.post("externalcontact/mark_tag", {**mark, "add_tag": [tag_id]}))[
        "errcode"
    ] == 0
    assert sim.tags[("zhangsan", customer)] == {tag_id}
    listed = await api.post("externalcontact/get_corp_tag_list", {"tag_id": [tag_id]})
    assert [(g["group_name"], [t["name"] for t in g["tag"]]) for g in listed["tag_group"]] == [
        ("来源", ["douyin"])
    ]


async def test_moment_task_completes_with_a_moment_id(api: Api) -> None:
    job = await api.post("externalcontact/add_moment_task", {"text": {"content": "新品"}})
    result = await api.get("externalcontact/get_moment_task_result", jobid=job["jobid"])
    assert result["status"] == 3 and result["result"]["moment_id"]
    assert (await api.post("externalcontact/add_moment_task", {}))["errcode"] == 40058


async def transfer(api: Api, external_userid: str, handover: str, takeover: str) -> int:
    answer = await api.post(
        "externalcontact/transfer_customer",
        {
            "handover_userid": handover,
            "takeover_userid": takeover,
            "external_userid": [external_userid],
        },
    )
    return int(answer["customer"][0]["errcode"])


async def test_a_third_transfer_within_90_days_is_refused(
    api: Api, sim: WeComSimulator, clock: Clock
) -> None:
    sim.token_ttl = 365 * 86_400.0  # this test spans months
    await api.login()
    customer = sim.add_customer("zhangsan", "s").external_userid
    assert await transfer(api, customer, "zhangsan", "lisi") == 0
    result = await api.post(
        "externalcontact/transfer_result",
        {"handover_userid": "zhangsan", "takeover_userid": "lisi"},
    )
    assert [c["status"] for c in result["customer"]] == [2]
    clock.advance(86_400)
    result = await api.post(
        "externalcontact/transfer_result",
        {"handover_userid": "zhangsan", "takeover_userid": "lisi"},
    )
    assert [c["status"] for c in result["customer"]] == [1]
    assert list(sim.customers[customer].follows) == ["lisi"]
    assert await transfer(api, customer, "zhangsan", "wangwu") == 84061
    assert await transfer(api, customer, "lisi", "wangwu") == 0
    clock.advance(86_400)
    sim.settle_transfers()
    assert await transfer(api, customer, "wangwu", "zhaoliu") == 40128
    clock.advance(90 * 86_400)
    assert await transfer(api, customer, "wangwu", "zhaoliu") == 0


async def test_resigned_transfers_are_reported_apart(api: Api, sim: WeComSimulator) -> None:
    customer = sim.add_customer("zhangsan", "s").external_userid
    answer = await api.post(
        "externalcontact/resigned/transfer_customer",
        {"handover_userid": "zhangsan", "takeover_userid": "lisi", "external_userid": [customer]},
    )
    assert answer["customer"] == [{"external_userid": customer, "errcode": 0}]
    query = {"handover_userid": "zhangsan", "takeover_userid": "lisi"}
    assert len((await api.post("externalcontact/resigned/transfer_result", query))["customer"]) == 1
    assert (await api.post("externalcontact/transfer_result", query))["customer"] == []


# --- the driver against a local receiver ----------------------------------------------------


@dataclass
class Receiver:
    """Our side, minimally: decrypts every callback with crypto.py and records its fields."""

    crypto: WeComCrypto
    statuses: list[int] = field(default_factory=list)  # scripted answers, then 200
    received: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        q = request.query_params
        try:
            if request.method == "GET":
                echo = verify_url(
                    self.crypto, q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
                )
                return PlainTextResponse(echo)
            body = await request.body()
            fields = open_callback(
                self.crypto, q["msg_signature"], q["timestamp"], q["nonce"], body
            )
        except (CallbackVerificationError, KeyError):
            return PlainTextResponse("rejected", status_code=400)
        self.bodies.append(body)
        self.received.append(fields)
        return PlainTextResponse("", status_code=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver(WeComCrypto(TOKEN, AES_KEY, CORP))
    app = Starlette(routes=[Route("/cb", receiver.endpoint, methods=["GET", "POST"])])
    async with serve_asgi(app) as root:
        yield receiver, root + "cb"


@pytest.fixture
def driver(
    sim: WeComSimulator, http: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> WeComDriver:
    return WeComDriver(
        sim, callback_url=receiver[1], token=TOKEN, encoding_aes_key=AES_KEY, http=http
    )


async def test_add_customer_posts_the_encrypted_add_callback_with_state_and_welcome_code(
    api: Api, sim: WeComSimulator, driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    added = await driver.add_customer(state="douyin-ad", staff="zhangsan")
    assert added.status == 200 and added.unionid
    [fields] = receiver[0].received
    assert fields == {
        "ToUserName": CORP,
        "FromUserName": "sys",
        "CreateTime": str(int(FEB_2025)),
        "MsgType": "event",
        "Event": "change_external_contact",
        "ChangeType": "add_external_contact",
        "UserID": "zhangsan",
        "ExternalUserID": added.external_userid,
        "State": "douyin-ad",
        "WelcomeCode": added.welcome_code,
    }
    assert await welcome(api, fields["WelcomeCode"]) == 0


async def test_add_customer_defaults_to_the_first_user_of_the_scanned_code(
    sim: WeComSimulator, driver: WeComDriver
) -> None:
    sim.add_contact_way({"type": 2, "scene": 2, "user": ["lisi", "zhangsan"], "state": "hook-1"})
    added = await driver.add_customer(state="hook-1", welcome=False, has_unionid=False)
    assert (added.staff, added.welcome_code, added.unionid) == ("lisi", None, None)


async def test_retries_resend_the_identical_callback(
    driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    await driver.add_customer(state="s", retries=2)
    bodies = receiver[0].bodies
    assert len(bodies) == 3 and len(set(bodies)) == 1


async def test_a_failed_answer_is_retried_three_times_like_wecom(
    driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    receiver[0].statuses.extend([500, 503, 500, 500])
    added = await driver.add_customer(state="s")
    assert added.status == 500
    assert driver.deliveries[-1].statuses == [500, 503, 500, 500]
    receiver[0].statuses.extend([500])
    await driver.customer_deletes_staff(added.external_userid, "zhangsan")
    assert driver.deliveries[-1].statuses == [500, 200]


async def test_tampered_callbacks_are_refused_by_the_receiver(
    driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    callback = driver.seal({"ToUserName": CORP, "Event": "change_external_contact"})
    forged = type(callback)(callback.fields, {**callback.params, "nonce": "1"}, callback.body)
    assert await driver.post(forged) == 400
    other = WeComDriver(
        driver.sim,
        callback_url=driver.callback_url,
        token=TOKEN,
        encoding_aes_key="B" * 43,
        http=driver.http,
    )
    assert await other.send({"ToUserName": CORP}) == 400
    assert receiver[0].received == []
    assert await driver.post(callback) == 200


async def test_group_join_leave_delete_and_tag_callbacks(
    sim: WeComSimulator, driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    chat = sim.create_chat("zhangsan")
    config_id = sim.add_join_way({"scene": 2, "chat_id_list": [chat], "state": "grp"})["config_id"]
    added = await driver.add_customer(state="s")
    assert await driver.join_group(added.external_userid, config_id) == chat
    assert driver.last_status == 200
    assert await driver.leave_group(added.external_userid, chat) == 200
    assert await driver.change_tags(added.external_userid, "zhangsan", add=["vip"]) == 200
    assert await driver.staff_deletes_customer(added.external_userid, "zhangsan") == 200
    joined, left, tagged, deleted = receiver[0].received[1:]
    assert {
        k: joined[k]
        for k in (
            "Event",
            "ChangeType",
            "UpdateDetail",
            "JoinScene",
            "MemChangeCnt",
            "MemChangeList",
            "ChatId",
            "State",
        )
    } == {
        "Event": "change_external_chat",
        "ChangeType": "update",
        "UpdateDetail": "add_member",
        "JoinScene": "3",
        "MemChangeCnt": "1",
        "MemChangeList": added.external_userid,
        "ChatId": chat,
        "State": "grp",
    }
    assert (left["UpdateDetail"], left["MemChangeList"]) == ("del_member", added.external_userid)
    assert (tagged["ChangeType"], tagged["ExternalUserID"]) == (
        "edit_external_contact",
        added.external_userid,
    )
    assert deleted["ChangeType"] == "del_external_contact"
    assert sim.customers[added.external_userid].follows == {}


async def test_customer_deleting_staff_sends_del_follow_user(
    driver: WeComDriver, receiver: tuple[Receiver, str]
) -> None:
    added = await driver.add_customer(state="s")
    assert await driver.customer_deletes_staff(added.external_userid, "zhangsan") == 200
    assert receiver[0].received[-1]["ChangeType"] == "del_follow_user"
    assert receiver[0].received[-1]["UserID"] == "zhangsan"


async def test_url_verification_round_trip(driver: WeComDriver) -> None:
    assert await driver.verify_url("1616140317555161061") == (200, "1616140317555161061")
