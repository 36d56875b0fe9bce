"""Property: any value for any typed option of any model either builds or raises the zoo's
own error type (ZooError), never anything else: NaN, infinities, huge integers, text,
None, and each of those written as text (as a command line or a form sends them).

Builds run on the meta device (shapes, no memory) so that every model stays fast."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import zoo
from explorer.zoo.registry import ZooError

MODELS = zoo.list_models()
SETTINGS = dict(database=None, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def values_for(opt) -> st.SearchStrategy:
    """Hostile values plus the option's own legal ones, as themselves or as text."""
    hostile = st.one_of(st.none(), st.booleans(), st.integers(),
                        st.floats(allow_nan=True, allow_infinity=True),
                        st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400,
                                         -1, 0, "", " ", "1e400", "nan", "inf", "0x10"]),
                        st.text(max_size=8))
    legal = [st.sampled_from(opt.choices)] if opt.choices else []
    if opt.min is not None and opt.max is not None:
        if opt.type is int:
            legal.append(st.integers(int(opt.min), int(opt.max)))
        elif opt.type is float:
            legal.append(st.floats(opt.min, opt.max))
    either = st.one_of(hostile, *legal)
    return st.one_of(either, either.map(str))


def any_option(name: str) -> st.SearchStrategy:
    options = zoo.get_info(name).options
    if not options:
        return st.just(None)
    return st.sampled_from(options).flatmap(lambda o: st.tuples(st.just(o), values_for(o)))


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_validate_accepts_or_raises_zoo_error(name, data):
    picked = data.draw(any_option(name))
    if picked is None:
        return
    opt, value = picked
    try:
        checked = opt.validate(name, value)
    except ZooError:
        return
    assert isinstance(checked, opt.type)
    if opt.choices is not None:
        assert checked in opt.choices
    if isinstance(checked, float):
        assert checked == checked and abs(checked) != float("inf")
    if opt.min is not None:
        assert opt.min <= checked <= opt.max


@pytest.mark.parametrize("name", MODELS)
@settings(max_examples=12, **SETTINGS)
@given(data=st.data())
def test_build_on_meta_builds_or_raises_zoo_error(name, data):
    picked = data.draw(any_option(name))
    options = {} if picked is None else {picked[0].name: picked[1]}
    try:
        with torch.device("meta"):
            model = zoo.build(name, **options)
    except ZooError:
        return
    assert isinstance(model, torch.nn.Module)


def test_nan_and_inf_are_refused_by_float_options():
    for name in MODELS:
        for opt in zoo.get_info(name).options:
            if opt.type is float and opt.choices is None:
                for bad in ("nan", float("nan"), "inf", -float("inf")):
                    with pytest.raises(ZooError, match="not a finite number"):
                        zoo.build(name, **{opt.name: bad})
