"""The kernels from Python: dtype kept, batch dimensions, special values, bad input."""

import numpy as np
import pytest

import transformer_laws as tl


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_softmax_family_keeps_dtype_and_batch_shape(dt):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5)).astype(dt)
    p = tl.softmax(x)
    assert p.dtype == dt and p.shape == x.shape
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=4 * np.finfo(dt).eps)
    lp = tl.log_softmax(x)
    assert lp.dtype == dt and lp.shape == x.shape
    np.testing.assert_allclose(np.exp(lp), p, rtol=8 * np.finfo(dt).eps)
    lse = tl.logsumexp(x)
    assert lse.dtype == dt and lse.shape == (2, 3)
    np.testing.assert_allclose(lp, x - lse[..., None], atol=8 * np.finfo(dt).eps * 4)
    # Each row is the 1-D result.
    np.testing.assert_array_equal(p[1, 2], tl.softmax(x[1, 2]))
    assert isinstance(tl.logsumexp(x[0, 0]), dt)


def test_log1p_split_keeps_a_dominant_logit():
    y = tl.log_softmax(np.array([0.0, -20.0], dtype=np.float32))
    assert y[0] == np.float32(-2.0611537e-09)
    loss, grad = tl.cross_entropy(np.array([40.0, 0.0]), 0)
    assert loss == 4.248354255291589e-18
    np.testing.assert_array_equal(grad, [-loss, loss])


def test_special_values_follow_the_crate_policy():
    inf = np.inf
    np.testing.assert_array_equal(tl.softmax(np.array([inf, 0.0])), [1.0, 0.0])
    np.testing.assert_array_equal(tl.softmax(np.array([0.0, -inf])), [1.0, 0.0])
    assert np.isnan(tl.softmax(np.array([-inf, -inf]))).all()
    assert tl.logsumexp(np.array([], dtype=np.float32)) == -inf
    np.testing.assert_array_equal(tl.layer_norm(np.array([7.0, 7.0]), eps=0.0), [0.0, 0.0])
    y = tl.rms_norm(np.array([3e19, 4e19], dtype=np.float32))
    np.testing.assert_array_equal(y, np.array([0.84852815, 1.1313708], dtype=np.float32))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_norms_with_affine_parameters(dt):
    x = np.array([[1.0, 2.0, 3.0, 4.0], [40000.0, 40001.0, 40002.0, 40003.0]], dtype=dt)
    g = np.array([1.0, 2.0, 1.0, 2.0], dtype=dt)
    b = np.array([0.5, 0.0, 0.0, -0.5], dtype=dt)
    y = tl.layer_norm(x, 1e-5, g, b)
    assert y.dtype == dt
    # Large mean, small spread: the same result as the small row (no cancellation).
    np.testing.assert_allclose(y[1], y[0], rtol=0, atol=1e-5)
    ref = g * (x[0] - x[0].mean()) / np.sqrt(x[0].var() + 1e-5) + b
    np.testing.assert_allclose(y[0], ref, rtol=1e-6)
    r = tl.rms_norm(x, gamma=g)
    np.testing.assert_allclose(
        r[0], g * x[0] / np.sqrt((x[0] ** 2).mean() + np.finfo(dt).eps), rtol=1e-6
    )


def test_cross_entropy_batches_and_targets():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    loss, grad = tl.cross_entropy(z, np.array([2, 0]))
    assert loss.shape == (2,) and grad.shape == (2, 3) and loss.dtype == np.float32
    np.testing.assert_allclose(loss[1], np.log(3.0), rtol=1e-6)
    np.testing.assert_allclose(grad.sum(-1), 0.0, atol=1e-6)


def test_rankings():
    tokens = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    x = np.array([1.0, 0.1])
    assert tl.argmax_dot(x, tokens) == 1
    assert tl.nearest_euclidean(x, tokens) == 0
    assert tl.nearest_cosine(x, tokens) == 0
    assert tl.nearest_cosine(np.zeros(2), tokens) is None
    batch = tl.argmax_dot(np.array([[1.0, 0.1], [0.0, 1.0], [0.0, 0.0]]), tokens)
    assert batch.dtype == np.int64
    np.testing.assert_array_equal(batch, [1, 2, 0])
    idx = tl.nearest_cosine(np.array([[0.0, 0.0]]), tokens)
    np.testing.assert_array_equal(idx, [-1])


def test_float32_rankings_agree_with_float64_numpy_and_ties_go_low():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((3000, 64)).astype(np.float32)
    w[2000] = w[700] * 2  # the same cosine as token 700, exactly: the lower index wins
    x = w[700] + np.float32(1e-2) * rng.standard_normal(64).astype(np.float32)
    w64, x64 = w.astype(np.float64), x.astype(np.float64)
    cos = (w64 @ x64) / np.linalg.norm(w64, axis=1)
    assert int(np.argmax(cos)) in (700, 2000)
    assert tl.nearest_cosine(x, w) == 700
    assert tl.argmax_dot(x, w) == int(np.argmax(w64 @ x64))
    assert tl.nearest_euclidean(x, w) == int(np.argmin(((w64 - x64) ** 2).sum(-1)))
    queries = rng.standard_normal((5, 64)).astype(np.float32)
    want = [int(np.argmax((w64 @ q) / np.linalg.norm(w64, axis=1))) for q in queries.astype(np.float64)]
    np.testing.assert_array_equal(tl.nearest_cosine(queries, w), want)


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: tl.softmax(np.arange(3)), TypeError, "float32 or float64"),
        (lambda: tl.softmax(np.float64(1.0)), ValueError, "at least one dimension"),
        (lambda: tl.layer_norm(np.zeros(3), gamma=np.ones(2)), ValueError, "gamma has 2 entries"),
        (lambda: tl.layer_norm(np.zeros(3, np.float32), gamma=np.ones(3)), TypeError, "gamma is float64"),
        (lambda: tl.layer_norm(np.zeros(3), eps=-1.0), ValueError, "eps must be"),
        (lambda: tl.rms_norm(np.zeros(3), eps=float("nan")), ValueError, "eps must be"),
        (lambda: tl.cross_entropy(np.zeros(3), 3), ValueError, "target 3 is out of range for 3 logits"),
        (lambda: tl.cross_entropy(np.zeros(3), -1), ValueError, "target -1 is out of range"),
        (lambda: tl.cross_entropy(np.zeros((2, 3)), [0]), ValueError, "one target per row"),
        (lambda: tl.cross_entropy(np.zeros(3), 0.5), TypeError, "integer"),
        (lambda: tl.cross_entropy(np.zeros(0), 0), ValueError, "out of range for 0 logits"),
        (lambda: tl.argmax_dot(np.zeros(3), np.zeros((2, 2))), ValueError, "x has 3 entries but each token has 2"),
        (lambda: tl.argmax_dot(np.zeros(2), np.zeros((0, 2))), ValueError, "tokens is empty"),
        (lambda: tl.argmax_dot(np.zeros(2), np.zeros(2)), ValueError, "two-dimensional"),
        (lambda: tl.argmax_dot(np.zeros(2), np.zeros((1, 2), np.float32)), TypeError, "tokens is float32"),
    ],
)
def test_bad_input_raises_with_the_crates_message(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_big_endian_input_is_read_as_the_same_numbers():
    x = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]], dtype=">f4")
    y = tl.softmax(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, tl.softmax(x.astype(np.float32)))
    g = np.array([1.0, 2.0, 3.0], dtype=">f8")
    np.testing.assert_array_equal(
        tl.layer_norm(np.arange(3.0), gamma=g), tl.layer_norm(np.arange(3.0), gamma=g.astype("<f8"))
    )


def test_a_huge_unsigned_target_is_named_not_wrapped():
    # uint64 2**64 − 1 would wrap to −1 in int64: the message names the value given.
    with pytest.raises(ValueError, match="target 18446744073709551615 is out of range for 3"):
        tl.cross_entropy(np.zeros(3), np.uint64(2**64 - 1))
    loss, _ = tl.cross_entropy(np.zeros(3), np.uint8(2))
    np.testing.assert_allclose(loss, np.log(3.0))


def test_non_contiguous_input_is_read_in_logical_order():
    x = np.arange(12, dtype=np.float64).reshape(3, 4).T  # Fortran order
    np.testing.assert_array_equal(tl.softmax(x), tl.softmax(np.ascontiguousarray(x)))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_batched_norms_are_the_one_row_norms(dt):
    # Twelve rows (steps of four on the f32 vector path: two full, the last broken by a constant
    # and a NaN row): each row is the 1-D call's result, bit for bit.
    rng = np.random.default_rng(1)
    for d in (768, 1100):
        x = rng.normal(3.0, 2.0, size=(3, 4, d)).astype(dt)
        x[2, 1] = 5.0
        x[2, 2, 7] = np.nan
        g = rng.normal(size=d).astype(dt)
        b = rng.normal(size=d).astype(dt)
        y = tl.layer_norm(x, 1e-5, g, b)
        r = tl.rms_norm(x, 1e-5, g)
        for i in range(3):
            for j in range(4):
                np.testing.assert_array_equal(y[i, j], tl.layer_norm(x[i, j], 1e-5, g, b))
                np.testing.assert_array_equal(r[i, j], tl.rms_norm(x[i, j], 1e-5, g))


def test_input_is_left_unchanged_and_every_layout_gives_the_same_rows():
    # C-ordered input is read where it lies: the result is a new array and the input is
    # untouched; strided, Fortran-ordered and misaligned views of the same data give the same
    # rows.
    x = np.linspace(-4.0, 4.0, 2 * 1000, dtype=np.float32).reshape(2, 1000)
    before = x.copy()
    for f in (tl.softmax, tl.log_softmax, tl.layer_norm, tl.rms_norm):
        y = f(x)
        assert not np.shares_memory(x, y)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_array_equal(f(x[:, ::2]), f(np.ascontiguousarray(x[:, ::2])))
        np.testing.assert_array_equal(f(x.T.copy().T), y)
    buf = np.zeros(4 * 1000 + 1, dtype=np.uint8)
    buf[1:] = x[0].view(np.uint8)
    odd = buf[1:].view(np.float32)
    assert not odd.flags.aligned
    for f in (tl.softmax, tl.log_softmax, tl.layer_norm, tl.rms_norm):
        np.testing.assert_array_equal(f(odd), f(x[0]))
    w = odd.reshape(100, 10)
    assert tl.argmax_dot(odd[:10], w) == tl.argmax_dot(x[0, :10], x[0].reshape(100, 10))


def test_the_array_fast_path_takes_every_kind_of_array_alike():
    # Arrays that take the general path (a subclass, a dtype equal to float32 but not numpy's
    # own object, big-endian x beside native gamma) and misaligned gamma and beta give what the
    # plain C-ordered float32 array gives.
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 40)).astype(np.float32)
    g = rng.normal(size=40).astype(np.float32)
    b = rng.normal(size=40).astype(np.float32)
    want = tl.layer_norm(x, 1e-5, g, b)
    class Sub(np.ndarray):
        pass

    np.testing.assert_array_equal(tl.layer_norm(x.view(Sub), 1e-5, g, b), want)
    meta = np.dtype(np.float32, metadata={"unit": "logit"})
    assert meta == np.float32 and meta is not np.dtype(np.float32)
    np.testing.assert_array_equal(tl.layer_norm(x.astype(meta), 1e-5, g.astype(meta), b), want)
    np.testing.assert_array_equal(tl.layer_norm(x.astype(">f4"), 1e-5, g, b), want)

    def misaligned(v):
        buf = np.zeros(v.nbytes + 1, dtype=np.uint8)
        buf[1:] = v.view(np.uint8)
        out = buf[1:].view(v.dtype)
        assert not out.flags.aligned
        return out

    np.testing.assert_array_equal(tl.layer_norm(x, 1e-5, misaligned(g), misaligned(b)), want)
    np.testing.assert_array_equal(tl.rms_norm(x, 1e-5, misaligned(g)), tl.rms_norm(x, 1e-5, g))


def test_compiled_entries_send_what_they_do_not_read_to_the_python_path():
    # softmax, log_softmax, layer_norm and rms_norm are the compiled functions: their
    # docstrings and signatures are the public ones, arrays of one float dtype go straight to
    # the kernel, and lists, integers, mixed dtypes and big-endian arrays come back through
    # the package's Python path, with the same results or its error.
    import inspect

    assert tl.layer_norm.__doc__.startswith("LayerNorm along the last axis")
    sig = inspect.signature(tl.layer_norm)
    assert list(sig.parameters) == ["x", "eps", "gamma", "beta"]
    assert sig.parameters["eps"].default == 1e-05
    assert inspect.signature(tl.rms_norm).parameters["eps"].default is None
    assert "log1p split" in tl.log_softmax.__doc__ and "Special values" in tl.softmax.__doc__

    x = [[0.5, -1.25, 2.0], [3.0, 3.0, -7.5]]
    a = np.array(x)
    for f in (tl.softmax, tl.log_softmax, tl.rms_norm, tl.layer_norm):
        np.testing.assert_array_equal(f(x), f(a))
        np.testing.assert_array_equal(f(a.astype(">f8")), f(a))
    g32 = np.array([1.0, 2.0, 0.5], np.float32)
    np.testing.assert_array_equal(
        tl.layer_norm(a.astype(np.float32), 1e-5, list(g32)), tl.layer_norm(a.astype(np.float32), 1e-5, g32)
    )
    np.testing.assert_array_equal(tl.layer_norm(a, 0, None, [1.0, 2.0, 3.0]), tl.layer_norm(a, 0.0, None, np.arange(1.0, 4.0)))
    with pytest.raises(TypeError, match="gamma is float32 but x is float64"):
        tl.layer_norm(a, 1e-5, g32)
    with pytest.raises(TypeError, match="float32 or float64"):
        tl.softmax(["a", "b"])
    with pytest.raises(TypeError, match="eps"):
        tl.layer_norm(a, "small")


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_empty_batches_keep_their_shape(dt):
    for shape in [(0, 4), (2, 0, 3)]:
        z = np.zeros(shape, dtype=dt)
        for f in (tl.softmax, tl.log_softmax):
            y = f(z)
            assert y.shape == shape and y.dtype == dt
        assert tl.logsumexp(z).shape == shape[:-1]
        assert tl.layer_norm(z, 1e-5).shape == shape
        assert tl.rms_norm(z).shape == shape
    # Empty rows: softmax of an empty row is empty, logsumexp of one is −∞.
    z = np.zeros((2, 0), dtype=dt)
    assert tl.softmax(z).shape == (2, 0)
    np.testing.assert_array_equal(tl.logsumexp(z), np.full(2, -np.inf, dtype=dt))
