"""Latent maths and latent files, in numpy (dcgan_tf.sampling.latents)."""

import numpy as np
import pytest

from dcgan_tf.config import TrainConfig
from dcgan_tf.sampling import latents as latent_space
from dcgan_tf.system.files import WriteError


def test_sample_draws_the_latents_of_the_runs_training_grids():
    from dcgan_tf.training.run import fixed_latents

    for distribution in ("normal", "uniform"):
        config = TrainConfig(
            latent_dim=5, grid_size=4, seed=11, latent_distribution=distribution
        )
        np.testing.assert_array_equal(
            latent_space.sample_latents(4, 5, seed=11, distribution=distribution),
            fixed_latents(config),
        )


def test_uniform_latents_stay_in_the_unit_box():
    latents = latent_space.sample_latents(500, 4, seed=0, distribution="uniform")
    assert latents.min() >= -1.0 and latents.max() < 1.0
    assert latents.min() < -0.95 and latents.max() > 0.95
    with pytest.raises(ValueError, match="Unknown latent distribution"):
        latent_space.sample_latents(2, 4, distribution="cauchy")


def test_slerp_keeps_latent_norms_where_lerp_does_not():
    # Independent Gaussian latents are nearly orthogonal with norms near
    # sqrt(d): the straight line's middle has about 1/sqrt(2) of that norm.
    rng = np.random.default_rng(0)
    start, end = rng.standard_normal((2, 200, 100))
    endpoints = (np.linalg.norm(start, axis=1) + np.linalg.norm(end, axis=1)) / 2
    for method, low, high in (("slerp", 0.95, 1.05), ("linear", 0.6, 0.8)):
        middle = latent_space.interpolate_latents(start, end, 3, method)[:, 1]
        ratio = np.linalg.norm(middle, axis=1) / endpoints
        assert low < ratio.min() and ratio.max() < high, method
    # Between latents of equal norm, every point of slerp keeps that norm.
    same = end * (np.linalg.norm(start, axis=1) / np.linalg.norm(end, axis=1))[:, None]
    path = latent_space.interpolate_latents(start, same, 9, "slerp")
    np.testing.assert_allclose(
        np.linalg.norm(path, axis=2),
        np.repeat(np.linalg.norm(start, axis=1)[:, None], 9, axis=1),
        rtol=1e-5,
    )


def test_slerp_moves_at_constant_speed_and_handles_parallel_latents():
    rng = np.random.default_rng(1)
    start, end = rng.standard_normal((2, 16))
    # On a sphere (equal norms), slerp takes equal steps along the arc.
    on_sphere = end * np.linalg.norm(start) / np.linalg.norm(end)
    path = latent_space.interpolate_latents(start, on_sphere, 11, "slerp")
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-4)
    # Parallel latents and the zero latent have no great circle: a line.
    for other in (2.0 * start, np.zeros(16)):
        parallel = latent_space.interpolate_latents(start, other, 5, "slerp")
        linear = latent_space.interpolate_latents(start, other, 5, "linear")
        assert np.all(np.isfinite(parallel))
        np.testing.assert_allclose(parallel, linear, atol=1e-5)


def test_walk_visits_keyframes_in_order_and_can_loop():
    keyframes = latent_space.sample_latents(3, 4, seed=0)
    open_walk = latent_space.walk_latents(keyframes, 5, "slerp")
    loop = latent_space.walk_latents(keyframes, 5, "slerp", loop=True)
    assert open_walk.shape == (2, 5, 4) and loop.shape == (3, 5, 4)
    np.testing.assert_allclose(loop[:, 0], keyframes, atol=1e-6)
    np.testing.assert_allclose(loop[:, -1], np.roll(keyframes, -1, axis=0), atol=1e-6)
    frames = latent_space.join_segments(loop, loop=True)
    assert len(frames) == 3 * 4  # no keyframe shown twice, so it loops smoothly
    np.testing.assert_allclose(frames[[0, 4, 8]], keyframes, atol=1e-6)
    assert len(latent_space.join_segments(open_walk)) == 2 * 4 + 1
    with pytest.raises(ValueError, match="at least 2 keyframe"):
        latent_space.walk_latents(keyframes[:1])
    with pytest.raises(ValueError, match="at least 2"):
        latent_space.interpolate_latents(keyframes[0], keyframes[1], steps=1)
    with pytest.raises(ValueError, match="Unknown interpolation method"):
        latent_space.interpolate_latents(keyframes[0], keyframes[1], method="cubic")


def test_latents_round_trip_and_are_picked_by_grid_index(tmp_path):
    latents = latent_space.sample_latents(6, 4, seed=2)
    path = latent_space.save_latents(tmp_path / "grid.npz", latents, seed=2, columns=3)
    loaded = latent_space.load_latents(path, latent_dim=4)
    np.testing.assert_array_equal(loaded, latents)
    with np.load(path) as data:
        assert int(data["seed"]) == 2 and int(data["columns"]) == 3
    np.testing.assert_array_equal(
        latent_space.pick(loaded, [4, 1, 4]), latents[[4, 1, 4]]
    )
    np.save(tmp_path / "latents.npy", latents)  # a run's training-grid latents
    np.testing.assert_array_equal(
        latent_space.load_latents(tmp_path / "latents.npy"), latents
    )


def test_save_latents_writes_exactly_the_path_it_is_given(tmp_path):
    # np.savez alone would write grid.latents as grid.latents.npz.
    path = latent_space.save_latents(tmp_path / "new" / "grid.latents", np.ones((2, 3)))
    assert path == tmp_path / "new" / "grid.latents" and path.is_file()
    assert latent_space.load_latents(path).shape == (2, 3)


def test_a_failed_save_keeps_the_old_latents_whole(tmp_path, monkeypatch):
    path = latent_space.save_latents(tmp_path / "grid.npz", np.ones((2, 3)))

    def disk_full(file, **arrays):
        file.write(b"PK half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(WriteError, match="the disk is full") as raised:
        latent_space.save_latents(path, np.zeros((2, 3)))
    assert "\n" not in str(raised.value)
    monkeypatch.undo()
    np.testing.assert_array_equal(latent_space.load_latents(path), 1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.npz"]
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(WriteError, match="folder.npz"):
        latent_space.save_latents(tmp_path / "folder.npz", np.zeros((2, 3)))


@pytest.mark.parametrize(
    "action, match",
    [
        ("pick 6", r"Index 6 is out of range: there are 6 latents \(indices 0 to 5\)"),
        ("pick -1", "Index -1 is out of range"),
        ("dim 5", "holds 4-dimensional latents but the generator takes 5"),
        ("no latents", "has no 'latents' array"),
        ("not npz", "is not a latents file: pass the .npz"),
        ("truncated", "Cannot read latents from .*grid.npz"),
        ("missing", "No such latents file"),
    ],
)
def test_latents_files_and_indices_give_one_line_errors(tmp_path, action, match):
    latents = latent_space.sample_latents(6, 4, seed=2)
    path = latent_space.save_latents(tmp_path / "grid.npz", latents)
    with pytest.raises((ValueError, FileNotFoundError), match=match) as raised:
        if action.startswith("pick"):
            latent_space.pick(latents, [0, int(action.split()[1])])
        elif action == "dim 5":
            latent_space.load_latents(path, latent_dim=5)
        elif action == "no latents":
            np.savez(tmp_path / "other.npz", images=np.zeros(3))
            latent_space.load_latents(tmp_path / "other.npz")
        elif action == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
            latent_space.load_latents(path)
        elif action == "not npz":
            (tmp_path / "text.npz").write_text("hello")
            latent_space.load_latents(tmp_path / "text.npz")
        else:
            latent_space.load_latents(tmp_path / "nothing.npz")
    assert "\n" not in str(raised.value)


def test_latents_that_are_not_finite_are_refused(tmp_path):
    latents = np.zeros((3, 4), np.float32)
    latents[1, 2] = np.nan
    path = latent_space.save_latents(tmp_path / "nan.npz", latents)
    with pytest.raises(ValueError, match="NaN or infinite"):
        latent_space.load_latents(path)


def npy_claiming(rows: int) -> bytes:
    """An .npy of 4 latents of 8 whose header claims `rows` rows."""
    import io

    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (rows, 8)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + np.zeros((4, 8), np.float32).tobytes()


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_a_header_that_claims_more_than_the_file_holds_is_refused(tmp_path, suffix):
    # The issue's case: a latents.npy claiming 10^11 rows ended in "out of
    # memory; lower --batch-size" (numpy asked for 3.2 TB).
    import zipfile

    path = tmp_path / f"latents{suffix}"
    if suffix == ".npy":
        path.write_bytes(npy_claiming(10**11))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("latents.npy", npy_claiming(10**11))
    with pytest.raises(ValueError, match=r"claims shape \(100000000000, 8\)") as e:
        latent_space.load_latents(path)
    assert "truncated or damaged" in str(e.value) and "\n" not in str(e.value)
    # The same file with its true count loads.
    path.unlink()
    if suffix == ".npy":
        path.write_bytes(npy_claiming(4))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("latents.npy", npy_claiming(4))
    assert latent_space.load_latents(path).shape == (4, 8)


@pytest.mark.parametrize("content", ["text", "objects"])
def test_a_file_that_is_not_latents_says_what_is(tmp_path, content):
    # Text gave numpy's advice to load it with allow_pickle.
    path = tmp_path / "notes.npy"
    if content == "text":
        path.write_text("3 17 42\n")
    else:
        np.save(path, np.array([{"z": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="is not a latents file") as raised:
        latent_space.load_latents(path)
    message = str(raised.value)
    assert "pickle" not in message and "\n" not in message
    assert "generate, interpolate or neighbours" in message
