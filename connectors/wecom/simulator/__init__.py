"""A WeCom corp simulated over real HTTP, and a driver that plays its customers and staff.

    sim = WeComSimulator(corp_id="ww-test", secret="s3cret")
    async with sim.serve() as base_url:          # http://127.0.0.1:<port>/cgi-bin/
        driver = WeComDriver(sim, callback_url=..., token=..., encoding_aes_key=..., http=http)
        added = await driver.add_customer(state="douyin-ad", staff="zhangsan")

Used by the tests, the demo and the benchmark; nothing here reaches the internet.
"""

from __future__ import annotations

from connectors.wecom.simulator.driver import AddedCustomer, Callback, Delivery, WeComDriver
from connectors.wecom.simulator.server import WeComSimulator
from connectors.wecom.simulator.state import WeComError

__all__ = ["AddedCustomer", "Callback", "Delivery", "WeComDriver", "WeComError", "WeComSimulator"]
