"""Fitted switching tables: a smooth P(switch) per pulse width, with an honest uncertainty band.

A trng LUT's raw ``p_switch`` is k/n from n SPICE trials per grid point: noisy (a 128-trial point has a
binomial standard error up to 0.044) and, where interpolated, jagged. :func:`add_fit` fits, at each pulse
width, the switching probability as a smooth function of the amplitude to the counts (k, n):

* a binomial GLM, P(v) = F(b0 + b1 x + ... + bd x^d), x the amplitude scaled onto [-1, 1], with the
  probit (F = Phi) or logit link and degree d = 1..3, fitted by maximum likelihood (Fisher scoring);
* the model is chosen by goodness of fit: the lowest AIC among the fits whose deviance goodness-of-fit
  p-value (chi-square, n_points - d - 1 degrees of freedom) exceeds :data:`GOF_P_MIN`, else the lowest
  AIC of all (the report then says the fit is poor);
* the band is pointwise 95 %: a Wald interval on the linear predictor eta (delta method, eta +- 1.96 se),
  mapped through the link, so it stays inside [0, 1]; it is the envelope of the bands of the chosen
  degree's acceptable fits with either link and of lower degrees within :data:`BAND_DELTA_AIC` of the best
  (model uncertainty: the links extrapolate differently into the tails, where every count is 0 or n).
  On synthetic probit and logit truths with 128 trials per point it covers the truth at about 96 % of
  grid points (``tests/test_lut_fit.py``). Only models whose linear predictor rises with amplitude over
  the grid are considered (:func:`rises`), and at a point whose counts are all 0 or all n the band is that
  point's own Clopper-Pearson interval (:func:`saturated_points_band`);
* a width whose counts are all 0 or all n, or where every model is separated (a transition sharper
  than the grid: the likelihood has no maximum), falls back to a monotone answer: the isotonic
  (pool-adjacent-violators) estimate of the raw proportions, with the raw Clopper-Pearson bounds made
  monotone (lower: running maximum from below, upper: running minimum from above); the report says so.

The fitted LUT gains ``p_switch_fit``, ``p_switch_fit_low`` and ``p_switch_fit_high`` (unit 1, on the
axes of ``p_switch``) and provenance ``fit``, one report per width (link, degree, deviance, dof,
GOF p-value, AIC, coefficients and their covariance). The raw counts stay (``p_switch`` x ``trials``).
Later stages read the fit where present (:func:`cosim.luts.queries.switching_probability_var`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, log_ndtr, ndtr
from scipy.stats import chi2, norm

from cosim.luts.lut import Lut, LutError

LINKS = ("probit", "logit")
DEGREES = (1, 2, 3)
GOF_P_MIN = 0.01
"""A fit is acceptable when its deviance goodness-of-fit p-value exceeds this."""
BAND_LEVEL = 0.95
BAND_DELTA_AIC = 2.0
"""The band is the envelope of the 95 % bands of the acceptable models of the chosen degree (both links) and of
the lower-degree ones within this AIC of the best: the links differ in the tails, where every count is 0 or n
and the data cannot tell them apart, so the band does not pretend to know the link there. (Higher degrees are
left out: a cubic the data do not ask for bends freely where the counts saturate.)"""
FIT_VARS = ("p_switch_fit", "p_switch_fit_low", "p_switch_fit_high")
MAX_ITER = 100
STEP_TOL = 1e-8
"""Fisher scoring has converged when no coefficient moves by more than this (coefficients on x in [-1, 1]);
a separated fit never gets there (its coefficients grow without bound)."""


# Links ------------------------------------------------------------------------------------------------------------

def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    return ndtr(eta) if link == "probit" else expit(eta)


def _log_mu(link: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log P and log (1 - P), accurate in both tails."""
    if link == "probit":
        return log_ndtr(eta), log_ndtr(-eta)
    return log_expit(eta), log_expit(-eta)


def _score_weights(link: str, eta: np.ndarray, k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """d loglik / d eta and the Fisher information weight per point, computed in log space."""
    if link == "logit":
        mu = expit(eta)
        return k - n * mu, n * mu * (1 - mu)
    log_phi = norm.logpdf(eta)
    lp, lq = _log_mu(link, eta)
    score = k * np.exp(log_phi - lp) - (n - k) * np.exp(log_phi - lq)
    return score, n * np.exp(2 * log_phi - lp - lq)


def _loglik(link: str, eta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    lp, lq = _log_mu(link, eta)
    return float(np.sum(np.where(k > 0, k * lp, 0.0) + np.where(n - k > 0, (n - k) * lq, 0.0)))


def _saturated_loglik(k: np.ndarray, n: np.ndarray) -> float:
    p = k / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.where(k > 0, k * np.log(p), 0.0) + np.where(n - k > 0, (n - k) * np.log1p(-p), 0.0)))


def _log_binom_coef(k: np.ndarray, n: np.ndarray) -> float:
    from scipy.special import gammaln

    return float(np.sum(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)))


# One GLM ----------------------------------------------------------------------------------------------------------

def design(x: np.ndarray, degree: int) -> np.ndarray:
    return np.vander(np.asarray(x, dtype=float), degree + 1, increasing=True)


def fit_glm(x: np.ndarray, k: np.ndarray, n: np.ndarray, link: str, degree: int) -> dict | None:
    """Maximum-likelihood binomial GLM of ``k`` of ``n`` on a polynomial in ``x`` (scaled onto about [-1, 1]);
    None when it does not converge (separation) or its information matrix is singular."""
    X = design(x, degree)
    beta = np.zeros(degree + 1)
    p0 = np.clip((k.sum() + 0.5) / (n.sum() + 1), 1e-6, 1 - 1e-6)
    beta[0] = norm.ppf(p0) if link == "probit" else np.log(p0 / (1 - p0))
    ll = _loglik(link, X @ beta, k, n)
    for _ in range(MAX_ITER):
        score, w = _score_weights(link, X @ beta, k, n)
        info = X.T @ (w[:, None] * X)
        try:
            step = np.linalg.solve(info, X.T @ score)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(step)):
            return None
        for _half in range(30):  # step halving: the log-likelihood must not drop
            new = beta + step
            new_ll = _loglik(link, X @ new, k, n)
            if np.isfinite(new_ll) and new_ll >= ll - 1e-10 * abs(ll):
                break
            step = step / 2
        else:
            return None
        beta, ll = new, new_ll
        if np.max(np.abs(step)) < STEP_TOL * (1 + np.max(np.abs(beta))):
            break
    else:
        return None
    _, w = _score_weights(link, X @ beta, k, n)
    info = X.T @ (w[:, None] * X)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return None
    m, p = len(x), degree + 1
    deviance = max(0.0, 2 * (_saturated_loglik(k, n) - ll))
    dof = m - p
    gof_p = float(chi2.sf(deviance, dof)) if dof > 0 else None
    aic = -2 * (ll + _log_binom_coef(k, n)) + 2 * p
    return {"link": link, "degree": degree, "coef": beta, "cov": cov, "deviance": deviance, "dof": dof,
            "gof_p": gof_p, "aic": float(aic)}


def glm_band(fit: dict, x: np.ndarray, level: float = BAND_LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fitted probability at ``x`` and its pointwise band (Wald on eta, mapped through the link)."""
    X = design(x, fit["degree"])
    eta = X @ np.asarray(fit["coef"])
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, np.asarray(fit["cov"]), X), 0.0))
    z = norm.ppf(0.5 + level / 2)
    link = fit["link"]
    return inverse_link(link, eta), inverse_link(link, eta - z * se), inverse_link(link, eta + z * se)


# Fallback ---------------------------------------------------------------------------------------------------------

def isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for yi, wi in zip(y, w):
        blocks.append([float(yi), float(wi), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.concatenate([np.full(c, m) for m, _, c in blocks])


def clopper_pearson(k: np.ndarray, n: np.ndarray, level: float = BAND_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import beta

    a = (1 - level) / 2
    lo = np.where(k > 0, beta.ppf(a, np.maximum(k, 1e-300), n - k + 1), 0.0)
    hi = np.where(k < n, beta.ppf(1 - a, k + 1, np.maximum(n - k, 1e-300)), 1.0)
    return lo, hi


def fallback_band(k: np.ndarray, n: np.ndarray, level: float = BAND_LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monotone answer without a model: isotonic proportions, Clopper-Pearson bounds made monotone."""
    p = isotonic(k / n, n)
    lo, hi = clopper_pearson(k, n, level)
    mlo, mhi = np.maximum.accumulate(lo), np.minimum.accumulate(hi[::-1])[::-1]
    if np.all(mlo <= mhi):
        lo, hi = mlo, mhi
    return p, np.minimum(lo, p), np.maximum(hi, p)


# One width, one table ---------------------------------------------------------------------------------------------

def saturated_points_band(p, lo, hi, k, n) -> tuple[np.ndarray, np.ndarray]:
    """Where a point's counts are all 0 or all n, its band is its own 95 % Clopper-Pearson interval: there a
    link's tail is an assumption the counts cannot check (it claimed P = 1 - 1e-9 where fresh SPICE found 1
    failure in 128), and a cubic's Wald band blows up at the grid's edge (0.29 wide at 0 of 256). The fit
    stays inside its band."""
    saturated = (k == 0) | (k == n)
    cp_lo, cp_hi = clopper_pearson(k, n)
    lo, hi = np.where(saturated, cp_lo, lo), np.where(saturated, cp_hi, hi)
    return np.minimum(lo, p), np.maximum(hi, p)


def rises(fit: dict, x: np.ndarray) -> bool:
    """True when the fit's linear predictor does not fall anywhere between the grid's ends. At a fixed pulse width
    the switching probability rises with amplitude below the cancel voltage (a weaker anisotropy lets the
    precession reach the equator); a polynomial that turns over where every count is 0 or n would otherwise
    widen the band there for no physical reason."""
    grid = np.linspace(x.min(), x.max(), 201)
    slope = np.polynomial.polynomial.polyval(grid, np.polynomial.polynomial.polyder(np.asarray(fit["coef"])))
    return bool(np.all(slope >= 0))


def fit_width(v: np.ndarray, k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Fit one pulse width's counts over amplitude ``v``: (p, low, high, report)."""
    v, k, n = (np.asarray(a, dtype=float) for a in (v, k, n))
    center, scale = float((v[0] + v[-1]) / 2), float((v[-1] - v[0]) / 2)
    x = (v - center) / scale
    report: dict = {"x_center_V": center, "x_scale_V": scale}
    if np.all(k == 0) or np.all(k == n):
        p, lo, hi = fallback_band(k, n)
        report.update(method="fallback", note=f"every count is {'0' if np.all(k == 0) else 'n'}: no curve to fit; "
                      "isotonic raw proportion with monotone 95 % Clopper-Pearson bounds")
        return p, lo, hi, report
    fits = [f for link in LINKS for d in DEGREES if d < len(v) and (f := fit_glm(x, k, n, link, d)) is not None
            and rises(f, x)]
    if not fits:
        p, lo, hi = fallback_band(k, n)
        report.update(method="fallback", note="every model is separated (a transition sharper than the grid) or "
                      "falls with amplitude; isotonic raw proportion with monotone 95 % Clopper-Pearson bounds")
        return p, lo, hi, report
    good = [f for f in fits if f["gof_p"] is not None and f["gof_p"] > GOF_P_MIN]
    best = min(good or fits, key=lambda f: f["aic"])
    near = [f for f in (good or [best]) if f["degree"] == best["degree"]
            or (f["degree"] < best["degree"] and f["aic"] <= best["aic"] + BAND_DELTA_AIC)]
    p, lo, hi = glm_band(best, x)
    for f in near:  # the band spans every model the data cannot tell from the best one
        _, f_lo, f_hi = glm_band(f, x)
        lo, hi = np.minimum(lo, f_lo), np.maximum(hi, f_hi)
    lo, hi = saturated_points_band(p, lo, hi, k, n)
    report.update(method="glm", link=best["link"], degree=best["degree"], deviance=best["deviance"], dof=best["dof"],
                  gof_p=best["gof_p"], aic=best["aic"], coef=best["coef"].tolist(), cov=best["cov"].tolist(),
                  band_models=[f"{f['link']}-{f['degree']}" for f in near],
                  note="" if good else f"no model passes the goodness-of-fit test (p > {GOF_P_MIN}); lowest AIC shown")
    return p, lo, hi, report


def add_fit(lut: Lut) -> Lut:
    """A new trng LUT with the fitted switching probability and its 95 % band (``p_switch_fit``,
    ``p_switch_fit_low``, ``p_switch_fit_high``) and the per-width fit report in provenance ``fit``."""
    for var in ("p_switch", "trials"):
        if var not in lut.variables:
            raise LutError(f"fitting needs the LUT variable '{var}'; variables: {list(lut.variables)}")
    unit, var_axes, p_raw = lut.variables["p_switch"]
    if sorted(var_axes) != ["t_pulse_s", "v_write_V"] or lut.variables["trials"][1] != var_axes:
        raise LutError(f"fitting needs p_switch and trials over (v_write_V, t_pulse_s), got {list(var_axes)}")
    iv = var_axes.index("v_write_V")
    p_raw = np.moveaxis(p_raw, iv, 0)
    n = np.moveaxis(lut.variables["trials"][2], iv, 0)
    if np.any(n < 1):
        raise LutError("fitting needs >= 1 trial at every grid point")
    k = np.round(p_raw * n)
    v, t = lut.axis("v_write_V"), lut.axis("t_pulse_s")
    out = np.empty((3, *p_raw.shape))
    reports = []
    for j, tj in enumerate(t):
        *bands, report = fit_width(v, k[:, j], n[:, j])
        out[:, :, j] = np.clip(bands, 0.0, 1.0)
        reports.append({"t_pulse_s": float(tj), **report})
    variables = {name: val for name, val in lut.variables.items() if name not in FIT_VARS}
    for name, arr in zip(FIT_VARS, out):
        variables[name] = ("1", var_axes, np.moveaxis(arr, 0, iv))
    prov = {**lut.provenance, "fit": {
        "model": "binomial GLM per pulse width, P = F(polynomial in x), x = (v_write_V - x_center_V) / x_scale_V; "
                 f"links {list(LINKS)}, degrees {list(DEGREES)}, maximum likelihood",
        "selection": f"lowest AIC among fits with deviance goodness-of-fit p > {GOF_P_MIN}, else lowest AIC",
        "band": "95 % pointwise: Wald interval on the linear predictor (delta method), mapped through the link; "
                "envelope over the acceptable fits of the chosen degree (either link) and of lower degrees within "
                f"{BAND_DELTA_AIC:g} AIC of the best (band_models)",
        "widths": reports}}
    return Lut(lut.kind, dict(lut.axes), variables, prov)


def fit_table(lut: Lut) -> list[dict]:
    """The fit report rows of a fitted LUT (empty without a fit): width, method, link, degree, deviance/dof,
    GOF p-value, note."""
    return list(lut.provenance.get("fit", {}).get("widths", []))
