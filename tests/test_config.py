"""`TrainConfig`'s recipes: `--recipe` fills the cures' options, flags given
beside it win, old runs read as the paper's DCGAN, and a resume may change
the learning rates but not the architecture."""

import dataclasses

import pytest

from dcgan_tf.config import RECIPES, TrainConfig, resume_config
from dcgan_tf.train import build_parser

OPTIONS = ("upsample", "discriminator_norm", "loss", "minibatch_stddev")


def _rates(config) -> tuple:
    """The discriminator's and the generator's learning rates, as resolved."""
    return (config.d_learning_rate, config.g_learning_rate)


def test_paper_is_the_default_and_today_s_dcgan():
    config = TrainConfig().resolve()
    assert config.recipe == "paper"
    assert [getattr(config, name) for name in OPTIONS] == [
        "transposed",
        "batch",
        "nonsaturating",
        False,
    ]
    assert config.learning_rate == 2e-4
    assert _rates(config) == (2e-4, 2e-4)
    assert config.differences_from_paper() == []
    # The classic sets keep the paper's recipe; the photo-sized ones do not.
    for dataset in ("fashion_mnist", "mnist", "cifar10"):
        assert TrainConfig(dataset=dataset).resolve().recipe == "paper"
    for dataset in ("biked", "folder"):
        config = TrainConfig(dataset=dataset).resolve()
        assert config.recipe == "modern" and config.upsample == "resize"
        paper = TrainConfig(dataset=dataset, recipe="paper").resolve()
        assert paper.differences_from_paper() == []


def test_modern_recipe_sets_every_option_and_flags_override_it():
    modern = TrainConfig(recipe="modern").resolve()
    for name, value in RECIPES["modern"].items():
        assert getattr(modern, name) == value
    assert "--loss hinge" in modern.differences_from_paper()
    mixed = TrainConfig(
        recipe="modern", upsample="transposed", minibatch_stddev=False
    ).resolve()
    assert (mixed.upsample, mixed.minibatch_stddev, mixed.loss) == (
        "transposed",
        False,
        "hinge",
    )
    # --learning-rate sets both networks' rates, unless one is given too.
    assert _rates(TrainConfig(recipe="modern", learning_rate=1e-3).resolve()) == (
        1e-3,
        1e-3,
    )
    both = TrainConfig(recipe="modern", learning_rate=1e-3, g_learning_rate=5e-5)
    assert _rates(both.resolve()) == (1e-3, 5e-5)
    paper = TrainConfig(d_learning_rate=4e-4).resolve()
    assert _rates(paper) == (4e-4, 2e-4)
    assert paper.differences_from_paper() == [
        "--d-learning-rate 0.0004",
        "--g-learning-rate 0.0002",
    ]


def test_a_config_json_from_before_the_recipes_reads_as_the_paper():
    old = TrainConfig(learning_rate=1e-4).resolve().to_dict()
    for name in ("recipe", *OPTIONS, "d_learning_rate", "g_learning_rate"):
        del old[name]
    config = TrainConfig.from_dict(old)
    assert config.recipe == "paper"
    assert [getattr(config, name) for name in OPTIONS] == [
        "transposed",
        "batch",
        "nonsaturating",
        False,
    ]
    assert _rates(config) == (1e-4, 1e-4)
    config.validate()
    resumed = resume_config(config, {"epochs": 99})
    assert (resumed.d_learning_rate, resumed.g_learning_rate) == (1e-4, 1e-4)


def test_resume_refuses_another_architecture_and_takes_new_rates():
    recorded = TrainConfig(recipe="modern").resolve()
    for given, flag in (
        (
            {"upsample": "transposed"},
            "--upsample transposed differs from the run's recorded resize",
        ),
        ({"recipe": "paper"}, "--recipe paper differs from the run's recorded modern"),
        ({"discriminator_norm": "batch"}, "--discriminator-norm batch"),
        ({"loss": "nonsaturating"}, "--loss nonsaturating"),
        ({"minibatch_stddev": False}, "--minibatch-stddev False"),
    ):
        with pytest.raises(
            ValueError, match=flag.replace("(", r"\(").replace(")", r"\)")
        ):
            resume_config(recorded, given)
    # The same command again is accepted.
    same = resume_config(recorded, {"recipe": "modern", "upsample": "resize"})
    assert same == recorded
    lower = resume_config(recorded, {"learning_rate": 1e-5})
    assert _rates(lower) == (1e-5, 1e-5)
    only_d = resume_config(recorded, {"d_learning_rate": 2e-4})
    assert _rates(only_d) == (2e-4, 1e-4)


def test_bad_recipe_values_are_one_line_errors():
    with pytest.raises(ValueError, match="--loss hinge has none"):
        TrainConfig(loss="hinge", label_smoothing=0.1).resolve().validate()
    with pytest.raises(ValueError, match="--d-learning-rate must be positive"):
        TrainConfig(d_learning_rate=-1.0).resolve().validate()
    with pytest.raises(ValueError, match="--learning-rate must be positive"):
        TrainConfig(recipe="modern", learning_rate=0.0).resolve().validate()
    with pytest.raises(ValueError, match="Unknown recipe"):
        TrainConfig(recipe="stylegan").resolve()
    with pytest.raises(ValueError, match="--upsample must be one of"):
        dataclasses.replace(TrainConfig().resolve(), upsample="deconv").validate()


def test_the_recipe_flags_are_generated_from_the_fields():
    parser = build_parser()
    args = parser.parse_args(
        ["--recipe", "modern", "--no-minibatch-stddev", "--g-learning-rate", "3e-4"]
    )
    assert (args.recipe, args.minibatch_stddev, args.g_learning_rate) == (
        "modern",
        False,
        3e-4,
    )
    assert parser.parse_args([]).minibatch_stddev is None  # the recipe decides
    with pytest.raises(SystemExit):
        parser.parse_args(["--upsample", "pixelshuffle"])


def test_each_network_s_rate_is_a_field_filled_once_and_the_run_completes_it():
    # resolve() is the one owner of the two rates: a resolved config holds
    # them as fields (no computed property), and an older config.json gets
    # them when read, at its learning_rate, as such a run trained.
    config = TrainConfig(learning_rate=3e-4).resolve()
    assert _rates(config) == (3e-4, 3e-4)
    assert not hasattr(TrainConfig, "learning_rates")
    old = config.to_dict()
    del old["d_learning_rate"], old["g_learning_rate"]
    assert _rates(TrainConfig.from_dict(old)) == (3e-4, 3e-4)
    # What only the run knows is added by one step, `complete`.
    from dcgan_tf.config.resolving import RunFacts, complete

    done = complete(config, RunFacts(7, ["a", "b"], True, "/tmp/run"))
    assert (done.steps_per_epoch, done.class_names) == (7, ["a", "b"])
    assert (done.jit_compiled, done.run_dir) == (True, "/tmp/run")
    assert complete(config, RunFacts(7)).run_dir == config.run_dir
