"""Table, coefficients and error bound of the polynomial exps of `src/kernels/simd/exp.rs`.

exp(x) = 2^k · T[j] · (1 + r·q(r)),  x·N/ln2 rounded to Nk + j (0 ≤ j < N),
T[j] = 2^(j/N) rounded to f64, q(r) ≈ (e^r − 1)/r on [−a, a], a = ln2/(2N)·(1 + 2⁻³⁰) (the
reduced argument, with slack for the rounding of Nk + j): the Chebyshev interpolant of degree
n, computed at 60 digits, its coefficients rounded to f64. `exp_poly` has N = 8, n = 6 (the
default); the AVX-512 lanes' `exp_poly16` has N = 16, n = 5:

    python scripts/exp_coefficients.py            # N = 8,  n = 6
    python scripts/exp_coefficients.py 16 5       # N = 16, n = 5

Prints the table (as f64 bit patterns), the coefficients and each term of the error bound
stated in the docs (in units of u = 2⁻⁵³), with q evaluated in Horner's scheme as the kernels do:
q = c₀ + r·(c₁ + r·(c₂ + … + r·cₙ)), n fused multiply-adds (the fewest operations: the
lanes run several registers in lockstep, so they are bound by the count of operations, not by
the chain's depth). Needs mpmath; run with any Python 3.
"""

import struct
import sys

import mpmath as mp

mp.mp.dps = 60
u = mp.mpf(2) ** -53
N_TABLE = int(sys.argv[1]) if len(sys.argv) > 1 else 8
a = mp.log(2) / (2 * N_TABLE) * (1 + mp.mpf(2) ** -30)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 6  # degree of q


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


table = [float(mp.power(2, mp.mpf(j) / N_TABLE)) for j in range(N_TABLE)]
# float(mpf) rounds to nearest: check it, entry by entry.
for j, t in enumerate(table):
    exact = mp.power(2, mp.mpf(j) / N_TABLE)
    assert abs(mp.mpf(t) - exact) <= u * exact
print("T = [")
for j in range(0, N_TABLE, 4):
    print("    " + " ".join(f"0x{bits(t):016x}," for t in table[j : j + 4]))
print("]")


def g(r):
    return mp.expm1(r) / r if r != 0 else mp.mpf(1)


nodes = [a * mp.cos(mp.pi * (2 * i + 1) / (2 * (N + 1))) for i in range(N + 1)]
A = mp.matrix([[x**j for j in range(N + 1)] for x in nodes])
c = mp.lu_solve(A, mp.matrix([g(x) for x in nodes]))
cf = [float(c[i]) for i in range(N + 1)]
print("C =", [repr(v) for v in cf])


def P(r):
    q = mp.mpf(0)
    for ci in reversed(cf):
        q = q * r + mp.mpf(ci)
    return 1 + r * q


M = 4001
worst_poly = max(
    abs(P(-a + 2 * a * i / (M - 1)) / mp.exp(-a + 2 * a * i / (M - 1)) - 1) for i in range(M)
)
print("measured max |P − e^r|/e^r on the grid:", mp.nstr(worst_poly / u, 5), "u")
worst_table = max(abs(mp.mpf(t) / mp.power(2, mp.mpf(j) / N_TABLE) - 1) for j, t in enumerate(table))
print("measured max table error:", mp.nstr(worst_table / u, 5), "u")
# |g − q| ≤ a^(N+1)·max|g^(N+1)|/(2^N (N+1)!), g^(n) = ∫₀¹ tⁿ e^{tr} dt ≤ e^a/(n+1)
interp = a ** (N + 1) * mp.exp(a) / (N + 2) / (2**N * mp.factorial(N + 1))
print("interpolation:", mp.nstr(interp * a / mp.exp(-a) / u, 5), "u")
coef = sum(abs(mp.mpf(cf[i]) - c[i]) * a ** (i + 1) for i in range(N + 1))
print("coefficient rounding:", mp.nstr(coef / mp.exp(-a) / u, 5), "u")
# Horner with fma, each step one rounding (≤ u·|result|), |·|max over |r| ≤ a:
# hₙ = cₙ, hᵢ = hᵢ₊₁·r + cᵢ, |ĥᵢ − hᵢ| ≤ a·|ĥᵢ₊₁ − hᵢ₊₁| + u·|ĥᵢ|, |hᵢ| ≤ Σ_{k≥i} |c_k|·a^(k−i).
def mx(cs, x):
    return sum(abs(mp.mpf(ci)) * x**i for i, ci in enumerate(cs))


e = mp.mpf(0)
for i in reversed(range(N)):
    hm = mx(cf[i:], a)
    e = (a * e + u * hm) / (1 - u)
qm = mx(cf, a)
p_err = a * e + u * a * (qm + e) * (1 + u)
print("Horner on q:", mp.nstr(e / u, 5), "u; p = r·q carried (÷e^−a):", mp.nstr(p_err / mp.exp(-a) / u, 5), "u")
red = 2 * a * u * (1 + u) / mp.exp(-a)
print("reduction (two fma roundings of |r| ≤ a):", mp.nstr(red / u, 5), "u")
print("table entry: 1 u; final fma T + T·p: 1 u")
total = 2 * u + (interp * a + coef + p_err) / mp.exp(-a) + red
print("total:", mp.nstr(total / u, 5), "u")
