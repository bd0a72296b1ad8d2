"""LUT loading under random damage: every mutant of a good LUT file is either refused with one
:class:`LutError` line naming the file, or loads to a table identical to the original (issue #14)."""

import io
import json
import random
import struct
import zipfile

import numpy as np
import pytest

from cosim.luts.lut import Lut, LutError
from cosim.luts.lut_file import MAX_MEMBER_BYTES

OUT_OF_RANGE = {"var:p_switch": [-1e-300, 1.5, -1.0], "var:p_switch_ci_low": [1.0000001, -0.5],
                "var:trials": [-1.0, 2.5], "var:energy_per_bit_J": [0.0, -1e-14], "var:v_mtj_fraction": [1.5, -0.1]}
"""Values each array must not hold (what a mutant writes besides NaN and infinities)."""
BAD_VALUES = [None, True, 0, -1, 1.5, "x", "", [], [1, 2], {}, {"a": 1}, float("nan")]


def synthetic_lut() -> Lut:
    v = np.array([0.7, 0.8, 0.9])
    t = np.array([0.4e-9, 0.5e-9])
    p = np.array([[0.0, 0.1], [0.3, 0.5], [0.9, 1.0]])
    return Lut("trng", {"v_write_V": ("V", v), "t_pulse_s": ("s", t)},
               {"p_switch": ("1", ("v_write_V", "t_pulse_s"), p),
                "p_switch_ci_low": ("1", ("v_write_V", "t_pulse_s"), p * 0.9),
                "trials": ("1", ("v_write_V", "t_pulse_s"), np.full((3, 2), 64.0)),
                "energy_per_bit_J": ("J", ("v_write_V",), v * 1e-14),
                "v_mtj_fraction": ("1", ("v_write_V",), np.full(3, 0.97))},
               {"corner": "tt", "temp_C": 27.0, "cycle_time_s": 1e-8, "seeds": [1, 2, 3],
                "cell_check": {"amplitude_correction": 1.01, "serial_correlation": {"lag1": 0.01, "ci95": [-0.1, 0.1]}}})


def members(blob: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def with_meta(entries, meta) -> list[tuple[str, bytes]]:
    return [(n, npy(np.array(json.dumps(meta))) if n == "__meta__.npy" else d) for n, d in entries]


def mutate(rng: random.Random, blob: bytes) -> tuple[str, bytes]:
    entries = members(blob)
    meta = json.loads(str(np.load(io.BytesIO(dict(entries)["__meta__.npy"])).item()))
    how = rng.choice(["flip", "truncate", "header", "value", "remove", "duplicate", "rename", "declared_size",
                      "npy_header", "append"])
    if how == "flip":
        out = bytearray(blob)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return how, bytes(out)
    if how == "truncate":
        return how, blob[:rng.randrange(len(blob))]
    if how == "append":
        return how, blob + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    if how == "header":
        target = rng.choice(["top", "axes", "variables", "provenance"])
        if target == "top":
            key = rng.choice(["schema", "kind", "axes", "variables", "provenance"])
            obj = meta
        elif target == "axes":
            obj, key = meta["axes"], rng.choice(list(meta["axes"]))
        elif target == "variables":
            var = rng.choice(list(meta["variables"]))
            obj, key = (meta["variables"], var) if rng.random() < 0.3 else (meta["variables"][var],
                                                                          rng.choice(["unit", "axes"]))
        else:
            obj = meta["provenance"]
            key = rng.choice(["corner", "temp_C", "cycle_time_s", "cell_check", "model_sha256", "mtj_model"])
        if rng.random() < 0.3:
            obj.pop(key, None)
        else:
            obj[key] = rng.choice(BAD_VALUES)
        if rng.random() < 0.1:
            meta = rng.choice(BAD_VALUES)
        return f"header:{target}:{key}", zip_of(with_meta(entries, meta))
    if how == "value":
        i = rng.choice([k for k, (n, _) in enumerate(entries) if n != "__meta__.npy"])
        name, data = entries[i]
        arr = np.load(io.BytesIO(data)).copy()
        k = rng.randrange(arr.size)
        out_of_range = OUT_OF_RANGE.get(name[:-4], [])
        if name.startswith("axis:"):
            out_of_range = [arr.flat[k - 1] if k else arr.flat[1]]  # a repeated axis value
        arr.flat[k] = rng.choice([np.nan, np.inf, -np.inf] + out_of_range)
        entries[i] = (name, npy(arr))
        return f"value:{name}", zip_of(entries)
    if how == "remove":
        entries.pop(rng.randrange(len(entries)))
        return how, zip_of(entries)
    if how == "duplicate":
        entries.append(rng.choice(entries))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
            return how, zip_of(entries)
    if how == "rename":
        i = rng.randrange(len(entries))
        name = entries[i][0]
        j = rng.randrange(len(name))
        entries[i] = (name[:j] + rng.choice("xyz_:.Q/") + name[j + 1:], entries[i][1])
        return how, zip_of(entries)
    if how == "declared_size":
        out = bytearray(blob)
        offset = out.find(b"PK\x01\x02")  # the first central directory entry: uncompressed size at +24
        size = rng.choice([0, 1, 2**31, 2**32 - 2, MAX_MEMBER_BYTES + 1])
        out[offset + 24:offset + 28] = struct.pack("<I", size)
        return how, bytes(out)
    # npy_header: another dtype, Fortran order or shape written into a member's header
    i = rng.choice([k for k, (n, _) in enumerate(entries) if n != "__meta__.npy"])
    name, data = entries[i]
    head_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + head_len].decode("latin1")
    change = rng.choice([("'<f8'", "'|O'"), ("'<f8'", "'>f8'"), ("'<f8'", "'<i8'"), ("False", "True"),
                         ("(", "(1, "), ("(", "(1000000000, ")])
    header = header.replace(*change).rstrip(" \n")
    header = header + " " * (head_len - 1 - len(header)) + "\n" if len(header) < head_len else header + "\n"
    entries[i] = (name, data[:8] + struct.pack("<H", len(header)) + header.encode("latin1") + data[10 + head_len:])
    return f"npy_header:{change}", zip_of(entries)


def same_table(a: Lut, b: Lut) -> bool:
    return (a.kind == b.kind and list(a.axes) == list(b.axes) and list(a.variables) == list(b.variables)
            and all(a.axes[n][0] == b.axes[n][0] and np.array_equal(a.axes[n][1], b.axes[n][1]) for n in a.axes)
            and all(a.variables[n][:2] == b.variables[n][:2] and np.array_equal(a.variables[n][2], b.variables[n][2])
                    for n in a.variables))


def test_random_mutants_are_refused_in_one_line_or_load_identically(tmp_path):
    original = synthetic_lut()
    good = original.save(tmp_path / "good.lut.npz")
    blob = good.read_bytes()
    reference = Lut.load(good)
    refused = loaded = 0
    for seed in range(400):
        rng = random.Random(seed)
        how, mutant = mutate(rng, blob)
        path = tmp_path / f"m{seed}.lut.npz"
        path.write_bytes(mutant)
        try:
            lut = Lut.load(path)
        except LutError as err:
            msg = str(err)
            assert "\n" not in msg and str(path) in msg, (seed, how, msg)
            assert "allow_pickle" not in msg and len(msg) < 600, (seed, how, msg)
            refused += 1
        else:
            assert same_table(lut, reference), (seed, how)
            if "provenance" not in how:  # a provenance without an optional field is still a LUT
                assert lut.provenance == reference.provenance, (seed, how)
            loaded += 1
        path.unlink()
    assert refused > 250 and loaded > 5, (refused, loaded)


def test_zip_bomb_is_refused_from_the_directory_before_inflating(tmp_path):
    """A small file whose member inflates to 128 MiB of zeros: refused from the zip directory's sizes."""
    entries = members(synthetic_lut().save(tmp_path / "good.lut.npz").read_bytes())
    header = npy(np.zeros(1))[:-8].replace(b"(1,)", b"(16777216,)")  # shape of 128 MiB
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
        with zf.open("var:bomb.npy", "w") as member:
            member.write(header)
            zero = bytes(2**20)
            for _ in range(128):
                member.write(zero)
    path = tmp_path / "bomb.lut.npz"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2**20
    with pytest.raises(LutError, match=r"bomb.lut.npz: zip member 'var:bomb.npy' declares \d+ bytes uncompressed"):
        Lut.load(path)


def test_flipped_member_bytes_read_as_corrupted_and_pickles_are_never_loaded(tmp_path):
    good = synthetic_lut().save(tmp_path / "good.lut.npz")
    blob = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("var:p_switch.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    blob[start + info.compress_size // 2] ^= 0xFF
    (tmp_path / "flip.lut.npz").write_bytes(bytes(blob))
    with pytest.raises(LutError, match=r"flip.lut.npz: corrupted file \(member 'var:p_switch.npy'"):
        Lut.load(tmp_path / "flip.lut.npz")

    entries = members(good.read_bytes())
    entries = [(n, d) for n, d in entries if n != "var:p_switch.npy"]
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "pickle.lut.npz").write_bytes(zip_of(entries + [("var:p_switch.npy", buf.getvalue())]))
    with pytest.raises(LutError, match="holds Python objects") as err:
        Lut.load(tmp_path / "pickle.lut.npz")
    assert "allow_pickle" not in str(err.value)


@pytest.mark.parametrize("field,value,match", [
    ("cycle_time_s", 0.0, "provenance cycle_time_s = 0.0; it must be a finite time > 0 s"),
    ("cycle_time_s", "10n", "provenance cycle_time_s = '10n'"),
    ("temp_C", None, "provenance temp_C = null"),
])
def test_provenance_fields_later_stages_read_are_checked(tmp_path, field, value, match):
    lut = synthetic_lut()
    lut.provenance[field] = value
    with pytest.raises(LutError, match=match):
        Lut.load(lut.save(tmp_path / "p.lut.npz"))


@pytest.mark.parametrize("var,unit,value,match", [
    ("p_switch", "1", 1.5, "must be a probability in"), ("energy_per_bit_J", "J", -1e-15, "must be an energy > 0 J"),
    ("trials", "1", 2.5, "must be a count"), ("latency_s", "s", 0.0, "must be a time > 0 s"),
    ("p_switch", "1", np.inf, "holds an infinity"),
])
def test_values_outside_their_physical_range_are_refused(var, unit, value, match):
    v = np.array([0.7, 0.8])
    with pytest.raises(LutError, match=match):
        Lut("trng", {"v_write_V": ("V", v)}, {var: (unit, ("v_write_V",), np.array([value, value]))})
