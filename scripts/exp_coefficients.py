"""Coefficients and error bound of the polynomial exp of `src/kernels/simd/exp.rs`.

q(r) ≈ (e^r − 1)/r on [−a, a], a = ln2/2·(1 + 2⁻³⁰) (the reduced argument, with slack for the
rounding of k): the degree-10 Chebyshev interpolant, computed at 60 digits, its coefficients
rounded to f64. Prints the coefficients and each term of the error bound stated in the module
docs (in units of u = 2⁻⁵³): the analytic interpolation bound, the coefficient rounding, the
Horner evaluation, and the measured maximum of |P(r) − e^r|/e^r of the f64-coefficient
polynomial on a dense grid. Needs mpmath; run with any Python 3.
"""

import mpmath as mp

mp.mp.dps = 60
u = mp.mpf(2) ** -53
a = mp.log(2) / 2 * (1 + mp.mpf(2) ** -30)
N = 10  # degree of q


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


M = 20001
worst = max(abs(P(-a + 2 * a * i / (M - 1)) / mp.exp(-a + 2 * a * i / (M - 1)) - 1) for i in range(M))
print("measured max |P − e^r|/e^r on the grid:", mp.nstr(worst / u, 5), "u")
# |g − q| ≤ a^(N+1)·max|g^(N+1)|/(2^N (N+1)!), g^(n) = ∫₀¹ tⁿ e^{tr} dt ≤ e^a/(n+1)
interp = a ** (N + 1) * mp.exp(a) / (N + 2) / (2**N * mp.factorial(N + 1))
print("interpolation:", mp.nstr(interp * a / mp.exp(-a) / u, 5), "u")
coef = sum(abs(mp.mpf(cf[i]) - c[i]) * a ** (i + 1) for i in range(N + 1))
print("coefficient rounding:", mp.nstr(coef / mp.exp(-a) / u, 5), "u")
# Horner with fma: e_i ≤ u·|q_i| + a·e_{i+1}, |q_i(r)| ≤ Σ_{j≥i} |c_j| a^{j−i}
qi = [sum(abs(mp.mpf(cf[j])) * a ** (j - i) for j in range(i, N + 1)) for i in range(N + 1)]
e = 0
for i in range(N, -1, -1):
    e = u * qi[i] * (1 + u) + a * e
print("Horner on q:", mp.nstr(e / u, 5), "u; carried into P (×a/e^-a):", mp.nstr(a * e / mp.exp(-a) / u, 5), "u")
print("reduction (two fma roundings of |r| ≤ a):", mp.nstr(2 * a, 5), "u; final fma: 1 u")
