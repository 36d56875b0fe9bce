"""Copies of a model taken while it trains (explorer.training.snapshot): served at a step
or epoch boundary on the training thread, equal to the weights there, never changing
what the run computes."""

from __future__ import annotations

import threading
from dataclasses import replace

import torch

from explorer.training import (
    RunSpec,
    TrainingCancelled,
    get_recipe,
    load_dataset,
    prepare,
    train_side_by_side,
)
from explorer.training.snapshot import SnapshotRequests


def _data():
    return load_dataset("digits", train_size=48, test_size=60)


def _spec(models=(("lenet5", {}),), epochs=2):
    return RunSpec(models, replace(get_recipe("quick"), batch_size=16, epochs=epochs), epochs)


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_copy_asked_mid_epoch_is_the_weights_of_that_step():
    data = _data()
    contenders = prepare(_spec(), data)
    requests, taken, seen = SnapshotRequests(), [], {}

    def on_step(c, report):
        if (report.epoch, report.step) == (1, 1):  # one step into the second epoch
            requests.ask()
            seen["weights"] = _state(c.model)
        snap = requests.at_step(contenders, c, report)
        if snap is not None:
            taken.append(snap)

    train_side_by_side(contenders, on_step=on_step)
    [snap] = taken
    assert not requests.pending
    assert (snap.epochs_done, snap.step, snap.steps, snap.epochs) == (1, 1, 3, 2)
    assert snap.title() == "training on digits: epoch 2 of 2, step 1 of 3"
    assert not snap.module.training and next(snap.module.parameters()).device.type == "cpu"
    assert all(p.grad is None for p in snap.module.parameters())
    assert _equal(_state(snap.module), seen["weights"])
    assert not _equal(_state(snap.module), _state(contenders[0].model))  # it went on

    # the same run stopped after that step (cancel: "the weights of the last finished
    # step") holds those very weights: the copy is that boundary's, not a torn mix
    again = prepare(_spec(), data)
    stop = threading.Event()

    def stop_there(c, report):
        if (report.epoch, report.step) == (1, 1):
            stop.set()

    try:
        train_side_by_side(again, stop, on_step=stop_there)
    except TrainingCancelled:
        pass
    assert _equal(_state(again[0].model.eval()), _state(snap.module))


def test_copies_change_nothing_in_the_run_and_epoch_copies_carry_the_test_error():
    data = _data()
    plain = prepare(_spec(), data)
    train_side_by_side(plain)

    watched = prepare(_spec(), data)
    requests, taken = SnapshotRequests(every_epoch=True), []

    def keep(snap):
        if snap is not None:
            taken.append(snap)

    def on_step(c, report):
        requests.ask()  # a person clicking Refresh at every step
        keep(requests.at_step(watched, c, report))

    train_side_by_side(watched, on_step=on_step,
                       on_epoch=lambda c, m: keep(requests.at_epoch(watched, c, m)))
    assert _equal(_state(watched[0].model), _state(plain[0].model))
    figures = [[(m.train_loss, m.train_error, m.test_loss, m.test_error) for m in c.history]
               for c in (plain[0], watched[0])]
    assert figures[0] == figures[1]
    ends = [s for s in taken if s.step == 0]
    assert [s.epochs_done for s in ends] == [1, 2]
    assert ends[-1].title() == (f"training on digits: after epoch 2 of 2, test error "
                                f"{watched[0].history[-1].test_error:.1%}")
    assert _equal(_state(ends[-1].module), _state(watched[0].model.eval()))


def test_the_model_asked_for_is_copied_between_its_own_epochs():
    data = _data()
    contenders = prepare(_spec((("lenet5", {}), ("lenet5", {"activation": "relu"})), 1),
                         data)
    other = contenders[1].label
    requests, taken = SnapshotRequests(), []

    def on_step(c, report):
        if c is contenders[0] and report.step == 1:
            requests.ask(other)  # while the first model trains
            taken.append(requests.at_step(contenders, c, report))

    train_side_by_side(contenders, on_step=on_step)
    [snap] = taken
    assert snap.label == other and snap.step == 0 and snap.epochs_done == 0
    assert snap.title() == "training on digits: not trained yet"
    fresh = prepare(_spec((("lenet5", {}), ("lenet5", {"activation": "relu"})), 1), data)[1]
    assert _equal(_state(snap.module), _state(fresh.model.eval()))
