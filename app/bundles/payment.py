"""Payment adapters. `simulated` (the default) is a simulation for the demo and tests: it records the payment as
paid and moves no money. A real adapter (a bank's or a provincial payment platform's) goes beside it and is chosen
with YIWANG_PAYMENT_ADAPTER."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class PaymentResult:
    adapter: str
    reference: str
    status: str  # paid | failed


class SimulatedPayment:
    """Clearly not a payment: says paid for any amount and keeps a reference, nothing else."""

    name = "simulated"

    def charge(self, amount: int, reference: str) -> PaymentResult:
        return PaymentResult(adapter=self.name, reference=f"SIM-{reference}", status="paid")


ADAPTERS = {"simulated": SimulatedPayment}


def payment_adapter() -> SimulatedPayment:
    name = os.environ.get("YIWANG_PAYMENT_ADAPTER", "simulated")
    if name not in ADAPTERS:
        raise RuntimeError(f"unknown YIWANG_PAYMENT_ADAPTER {name!r}; known: {', '.join(ADAPTERS)}")
    return ADAPTERS[name]()
