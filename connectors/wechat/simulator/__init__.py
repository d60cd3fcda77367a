"""A WeChat Official Account or mini-program simulated over real HTTP, and a driver that plays
its users and pushes WeChat's callbacks.

    sim = WeChatSimulator(kind="oa", appid="wx0123456789abcdef", secret="s3cret")
    async with sim.serve() as base_url:          # http://127.0.0.1:<port>/cgi-bin/
        driver = WeChatDriver(sim, callback_url=..., token=..., encoding_aes_key=..., http=http)
        openid, answer = await driver.follow(scene="spring-poster")

Used by the tests and the embedded stack; nothing here reaches the internet.
"""

from __future__ import annotations

from connectors.wechat.simulator.driver import Push, WeChatDriver
from connectors.wechat.simulator.server import WeChatSimulator
from connectors.wechat.simulator.state import WeChatError

__all__ = ["Push", "WeChatDriver", "WeChatError", "WeChatSimulator"]
