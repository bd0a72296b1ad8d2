"""Generic 45 nm-class CMOS card for ngspice's BSIM4 (level 54), with TT/FF/SS corners.

The project writes its own card (no foundry data): values are typical of published
predictive 45 nm bulk models. A user's own PDK replaces it through ``--model-lib``.
Corners shift threshold by -/+ 3 sigma and mobility by +/- 10 %, the common
definition of fast/slow corners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .card import Card, CardError, param

CmosCorner = Literal["tt", "ff", "ss"]
CMOS_CORNERS: tuple[str, ...] = get_args(CmosCorner)


@dataclass(frozen=True)
class CmosCard(Card):
    """Key BSIM4 parameters of the generic node; the rest are fixed in ``_BSIM4_COMMON``."""

    kind = "CMOS card"

    vdd_V: float = param(1.0, "V", 0.3, 2.0, "vdd", "Core supply of a 45 nm-class node.")
    l_min_m: float = param(45e-9, "m", 10e-9, 1e-6, "lmin", "Drawn minimum channel length.")
    tox_m: float = param(1.25e-9, "m", 0.5e-9, 5e-9, "cmos_tox", "Electrical gate-oxide thickness (toxe).")
    vth0_n_V: float = param(0.466, "V", 0.1, 1.0, "cmos_vthn", "NMOS long-channel threshold (vth0).")
    vth0_p_V: float = param(0.412, "V", 0.1, 1.0, "cmos_vthp", "PMOS threshold magnitude (vth0 = -this).")
    u0_n_m2_per_Vs: float = param(0.0491, "m^2/(V s)", 0.001, 0.1, "cmos_u0n", "NMOS low-field mobility.")
    u0_p_m2_per_Vs: float = param(0.02, "m^2/(V s)", 0.0005, 0.05, "cmos_u0p", "PMOS low-field mobility.")
    sigma_vth_V: float = param(0.01, "V", 0, 0.2, "cmos_sigvth", "One-sigma threshold spread (corners at 3 sigma; Monte Carlo).")


_CORNER_SIGMAS = {"tt": 0.0, "ff": -3.0, "ss": 3.0}
_CORNER_MOBILITY = {"tt": 1.0, "ff": 1.1, "ss": 0.9}

_BSIM4_COMMON = """+ version=4.8 binunit=1 paramchk=1 mobmod=0 capmod=2 igcmod=0 igbmod=0 geomod=1 diomod=1
+ rdsmod=0 rbodymod=0 rgatemod=0 permod=1 acnqsmod=0 trnqsmod=0 tnom=27
+ toxe={tox} toxp={toxp} toxm={tox} epsrox=3.9 wint=5e-9 lint=3.75e-9 ll=0 wl=0 lln=1 wln=1
+ lw=0 ww=0 lwn=1 wwn=1 lwl=0 wwl=0 xpart=0 toxref={tox}
+ vth0={vth0} k1={k1} k2=0 k3=0 k3b=0 w0=2.5e-6 dvt0=1 dvt1=2 dvt2=0 dvt0w=0 dvt1w=0 dvt2w=0
+ dsub=0.1 minv=0.05 voffl=0 dvtp0=1e-10 dvtp1=0.1 lpe0=0 lpeb=0 xj=1.4e-8 ngate=2e20 ndep={ndep}
+ nsd=2e20 phin=0 cdsc=0 cdscb=0 cdscd=0 cit=0 voff=-0.13 nfactor={nfactor} eta0={eta0} etab=0
+ vfb=-0.55 u0={u0} ua={ua} ub={ub} uc=0 vsat={vsat} a0=1 ags=0 a1=0 a2=1 b0=0 b1=0 keta=0.04
+ dwg=0 dwb=0 pclm=0.02 pdiblc1=0.001 pdiblc2=0.001 pdiblcb=-0.005 drout=0.5 pvag=1e-20 delta=0.01
+ pscbe1=8.14e8 pscbe2=1e-7 fprout=0.2 pdits=0.08 pditsd=0.23 pditsl=2.3e6 rsh=5 rdsw={rdsw} rsw=85 rdw=85
+ rdswmin=0 rdwmin=0 rswmin=0 prwg=0 prwb=0 wr=1 alpha0=0.074 alpha1=0.005 beta0=30 agidl=0.0002
+ bgidl=2.1e9 cgidl=0.0002 egidl=0.8 cgso=1.1e-10 cgdo=1.1e-10 cgbo=2.56e-11 cgdl=2.653e-10 cgsl=2.653e-10
+ ckappas=0.03 ckappad=0.03 acde=1 moin=15 noff=0.9 voffcv=0.02 kt1=-0.11 kt1l=0 kt2=0.022 ute=-1.5
+ ua1=4.31e-9 ub1=7.61e-18 uc1=-5.6e-11 prt=0 at=33000 fnoimod=1 tnoimod=0 jss=0.0001 jsws=1e-11
+ jswgs=1e-10 njs=1 ijthsfwd=0.01 ijthsrev=0.001 bvs=10 xjbvs=1 pbs=1 cjs=0.0005 mjs=0.5 pbsws=1
+ cjsws=5e-10 mjsws=0.33 pbswgs=1 cjswgs=3e-10 mjswgs=0.33 tpb=0.005 tcj=0.001 tpbsw=0.005 tcjsw=0.001
+ tpbswg=0.005 tcjswg=0.001 xtis=3 dlc={lint} dwc=5e-9 lmin=0 lmax=1 wmin=0 wmax=1
"""

_POLARITY = {
    "n": dict(k1=0.4, ndep=3.4e18, nfactor=2.22, eta0=0.0055, ua=6e-10, ub=1.2e-18, vsat=147390, rdsw=155),
    "p": dict(k1=0.4, ndep=2.44e18, nfactor=2.1, eta0=0.0055, ua=2e-9, ub=5e-19, vsat=70000, rdsw=155),
}


def cmos_card(**overrides: float) -> CmosCard:
    return CmosCard().replace(**overrides)


def render_cmos_lib(card: CmosCard | None = None) -> str:
    """The ``.lib`` text with one section per corner, each defining models ``nch`` and ``pch``."""
    card = card or CmosCard()
    out = ["* Generic 45 nm-class BSIM4 (level 54) card, corners tt/ff/ss.",
           "* Rendered by compact_models.cmos; do not edit: change the card and re-render.", ""]
    for corner in CMOS_CORNERS:
        dv = _CORNER_SIGMAS[corner] * card.sigma_vth_V
        mob = _CORNER_MOBILITY[corner]
        out.append(f".lib {corner}")
        out.append(f".param vdd={card.vdd_V:g} lmin={card.l_min_m:g}")
        for pol, vth, u0 in (("n", card.vth0_n_V + dv, card.u0_n_m2_per_Vs * mob),
                             ("p", -(card.vth0_p_V + dv), card.u0_p_m2_per_Vs * mob)):
            values = dict(_POLARITY[pol], vth0=f"{vth:.6g}", u0=f"{u0:.6g}", tox=f"{card.tox_m:g}",
                          toxp=f"{card.tox_m - 0.25e-9:g}", lint="3.75e-9")
            out.append(f".model {pol}ch {pol}mos level=54")
            out.append(_BSIM4_COMMON.format(**values).rstrip())
        out.append(f".endl {corner}")
        out.append("")
    return "\n".join(out)


def corner_card(corner: str, card: CmosCard | None = None) -> CmosCard:
    """The typical ``card`` (default the shipped one) with ``corner``'s threshold and mobility shifts applied: the
    values ``render_cmos_lib`` writes into that corner's section, as a card."""
    card = card or CmosCard()
    dv = _CORNER_SIGMAS[check_corner(corner)] * card.sigma_vth_V
    mob = _CORNER_MOBILITY[corner]
    return card.replace(vth0_n_V=card.vth0_n_V + dv, vth0_p_V=card.vth0_p_V + dv,
                        u0_n_m2_per_Vs=card.u0_n_m2_per_Vs * mob, u0_p_m2_per_Vs=card.u0_p_m2_per_Vs * mob)


def check_corner(corner: str) -> str:
    if corner not in CMOS_CORNERS:
        raise CardError(f"unknown CMOS corner '{corner}'; known: {list(CMOS_CORNERS)}")
    return corner
