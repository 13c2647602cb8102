"""server_plugins.balance: a worker over its share of turns moves its next connection."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from server_plugins.balance import TurnBalancer


def request_with_stream() -> SimpleNamespace:
    return SimpleNamespace(stream=SimpleNamespace(keep_alive=True))


def test_one_worker_never_moves_connections():
    balancer = TurnBalancer(workers=1, enabled=True)
    assert not balancer.enabled
    request = request_with_stream()
    with balancer.turn():
        balancer.release_if_busy(request)
    assert request.stream.keep_alive is True


def test_switched_off_never_moves_connections():
    balancer = TurnBalancer(workers=2, enabled=False)
    assert not balancer.should_move_connection()


def test_worker_over_its_share_plus_one_asks_the_client_to_reconnect():
    balancer = TurnBalancer(workers=2, enabled=True)
    # 10 turns in all; this worker runs 8 of them (share 5, so 8 > 5 + 1).
    balancer._all_turns.value = 2
    request = request_with_stream()

    async def eight_turns() -> None:
        async def one_turn(last: bool) -> None:
            with balancer.turn():
                await asyncio.sleep(0)
                if last:
                    balancer.release_if_busy(request)

        await asyncio.gather(*(one_turn(last=index == 0) for index in range(8)))

    asyncio.run(eight_turns())
    assert request.stream.keep_alive is False


@pytest.mark.parametrize(
    ("mine", "others", "moves"), [(5, 5, False), (6, 4, False), (7, 3, True), (1, 0, False)]
)
def test_share_rule(mine, others, moves):
    balancer = TurnBalancer(workers=2, enabled=True)
    balancer.local_turns = mine
    balancer._all_turns.value = mine + others
    assert balancer.should_move_connection() is moves


def test_counts_return_to_zero_when_a_turn_fails():
    balancer = TurnBalancer(workers=2, enabled=True)
    with pytest.raises(RuntimeError), balancer.turn():
        raise RuntimeError("turn failed")
    assert (balancer.local_turns, balancer._all_turns.value) == (0, 0)


def test_request_without_http1_stream_is_left_alone():
    balancer = TurnBalancer(workers=2, enabled=True)
    balancer.local_turns, balancer._all_turns.value = 9, 9
    request = SimpleNamespace(stream=None)
    balancer.release_if_busy(request)  # no error
    assert request.stream is None
