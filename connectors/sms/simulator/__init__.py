"""An SMS account simulated over real HTTP as Alibaba Cloud and Tencent Cloud, and a driver that
pushes their delivery reports and replies.

    sim = SmsSimulator(access_key_id="LTAI-test", secret="s3cret")
    async with sim.serve():
        base_url = sim.base_url("aliyun")          # http://127.0.0.1:<port>/aliyun/
        driver = SmsDriver(http, callback_url=...)
        await driver.report(sim.sent[0])

Used by the tests and the dev stack; nothing here reaches the internet.
"""

from __future__ import annotations

from connectors.sms.simulator.driver import Pushed, SmsDriver
from connectors.sms.simulator.server import SmsSimulator
from connectors.sms.simulator.state import SimulatedSms, SmsAccount

__all__ = ["Pushed", "SimulatedSms", "SmsAccount", "SmsDriver", "SmsSimulator"]
