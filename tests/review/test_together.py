"""`together`: side by side, every call to its end, the first failure raised."""

from __future__ import annotations

import asyncio

import pytest

from app.review.together import together


async def test_results_come_back_in_order() -> None:
    async def after(seconds: float, value: int) -> int:
        await asyncio.sleep(seconds)
        return value

    assert await together(after(0.02, 1), after(0.0, 2), after(0.01, 3)) == [1, 2, 3]


async def test_a_failure_does_not_cut_the_others_short() -> None:
    finished: list[str] = []

    async def write(name: str) -> None:
        await asyncio.sleep(0.02)
        finished.append(name)

    async def fail(message: str) -> None:
        await asyncio.sleep(0)
        raise RuntimeError(message)

    with pytest.raises(RuntimeError, match="first"):
        await together(write("review"), fail("first"), fail("second"), write("summary"))
    assert sorted(finished) == ["review", "summary"]
