"""The law harness from Python: plausible correct numpy implementations pass by default, the
package's own kernels pass every law, exceptions fail one law and the report goes on, and the
settings are checked. The planted bugs, each failing by the law aimed at it, are in
test_planted.py."""

import numpy as np
import pytest

import transformer_laws as tl
from textbook import (
    cross_entropy_split,
    layer_norm_two_pass,
    log_softmax_split,
    rms_norm_plain,
)
from textbook import softmax_max_shift as softmax
from transformer_laws import laws


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_plausible_correct_implementations_pass_by_default(dtype):
    laws.check("softmax", softmax, dtype).assert_passed()
    laws.check("log_softmax", log_softmax_split, dtype).assert_passed()
    laws.check("layer_norm", layer_norm_two_pass, dtype).assert_passed()
    laws.check("rms_norm", rms_norm_plain, dtype).assert_passed()
    laws.check("cross_entropy", cross_entropy_split, dtype).assert_passed()
    # Their special values are PyTorch's, except that numpy raises on an empty row (x.max())
    # where PyTorch returns an empty row.
    r = laws.check("softmax", softmax, dtype, policy="torch")
    assert r.failed_laws == ["empty row"], str(r)
    assert r.failures[0].got.startswith("raised ValueError: zero-size array")


def test_the_packages_own_kernels_pass_every_law_and_its_policy():
    for dtype in ["float32", "float64"]:
        strict = dict(dtype=dtype, policy="crate", ulps=0)
        laws.check("softmax", tl.softmax, **strict).assert_passed()
        laws.check("log_softmax", tl.log_softmax, **strict).assert_passed()
        laws.check("logsumexp", tl.logsumexp, **strict).assert_passed()
        laws.check("layer_norm", lambda x, e: tl.layer_norm(x, e), **strict).assert_passed()
        laws.check("rms_norm", lambda x, e: tl.rms_norm(x, e), **strict).assert_passed()
        laws.check("cross_entropy", lambda z, y: tl.cross_entropy(z, y)[0], **strict).assert_passed()


def test_an_exception_fails_one_law_and_the_report_goes_on():
    def picky(x):
        if x.size == 0:
            raise ValueError("empty row")
        if (x == 1000).any():
            raise RuntimeError("logit of 1000")
        return softmax(x)

    r = laws.check("softmax", picky)
    assert [f.law for f in r.failures if f.kind == "law"] == ["no overflow"]
    f = r.failures[0]
    assert f.got == "raised RuntimeError: logit of 1000"
    np.testing.assert_array_equal(f.input, [1000.0, 1000.0])
    empty = next(x for x in r.results if x["name"] == "empty row")
    assert empty["outcome"] == "passed" and empty["answer_of"] == ["error"]
    with pytest.raises(AssertionError, match="FAILED  no overflow"):
        r.assert_passed()
    assert "raised RuntimeError" in str(r)


@pytest.mark.parametrize("dtype", [np.float64, np.dtype("float64"), "f64", "float64"])
def test_dtype_may_be_given_as_numpy_knows_it(dtype):
    r = laws.check("softmax", softmax, dtype=dtype, cases=4)
    assert r.dtype == "float64" and r.passed, str(r)


def test_cross_entropy_failures_carry_the_target():
    r = laws.check("cross_entropy", lambda z, y: np.log(np.exp(z).sum()) - z[y])
    f = next(f for f in r.failures if f.law == "no overflow")
    row, target = f.input
    assert row.dtype == np.float32 and 0 <= target < row.size


def test_policy_and_ulps_settings():
    r = laws.check("softmax", softmax, policy="crate")
    assert r.failed_laws == ["empty row", "+∞ entry", "two +∞ entries"], str(r)
    r = laws.check("softmax", softmax, ulps=1)
    assert r.failed_laws == ["as accurate as this crate"]
    r1 = laws.check("softmax", softmax, cases=10, seed=3)
    assert r1.passed and "(1" in str(r1)


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(op="softmax2", fn=softmax), ValueError, "unknown op"),
        (dict(op="softmax", fn=3), TypeError, "callable"),
        (dict(op="softmax", fn=softmax, dtype="float16"), ValueError, "dtype must be"),
        (dict(op="softmax", fn=softmax, policy="jax"), ValueError, "unknown policy"),
        (dict(op="softmax", fn=softmax, dtype=np.int32), ValueError, "dtype must be"),
        (dict(op="softmax", fn=softmax, dtype=[1]), ValueError, "dtype must be"),
        (dict(op="softmax", fn=softmax, seed=-1), ValueError, r"seed must be an integer in \[0, 2\*\*64\)"),
        (dict(op="softmax", fn=softmax, seed=2**64), ValueError, "seed must be"),
        (dict(op="softmax", fn=softmax, cases=2**32), ValueError, "cases must be"),
        (dict(op="softmax", fn=softmax, cases=-1), ValueError, "cases must be"),
        (dict(op="softmax", fn=softmax, cases=1.5), TypeError, "cases must be an integer, got float"),
        (dict(op="softmax", fn=softmax, ulps=-1), ValueError, "ulps must be"),
    ],
)
def test_bad_arguments(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        laws.check(**kwargs)
