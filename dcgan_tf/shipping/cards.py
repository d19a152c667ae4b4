"""A shipped preset's model card: one dict (`card.json`) and its Markdown
(`card.md`, rendered from the same dict, so the two never disagree).

What a card says, as keras-hub's and StudioGAN's do: the command that
trained the generator, the data and its licence, the epochs and seed, the
machine, FID, KID and IS on the data set's shipped classifier (with the
sample counts and the spread the library gives), and the sample grid.
"""

import dataclasses
import shlex

# The data sets' licences, as their authors state them (or that they state
# none). A data set not listed here needs `--licence` when shipped.
LICENCES = {
    "fashion_mnist": {
        "licence": "MIT",
        "url": "https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE",
    },
    "mnist": {
        "licence": "no licence stated by its authors, see the URL",
        "url": "http://yann.lecun.com/exdb/mnist/",
    },
    "cifar10": {
        "licence": "no licence stated by its authors, see the URL",
        "url": "https://www.cs.toronto.edu/~kriz/cifar.html",
    },
}
# Fields of config.json that are no choice of the command: where the run was
# written, and what the run recorded (`flag=False` fields are skipped too).
NOT_CHOSEN = ("run_dir",)
FIGURES = (
    ("fid", None, "FID"),
    ("kid", "kid_std", "KID"),
    ("is", "is_std", "IS"),
)


def data_licence(dataset: str, licence: str | None = None) -> dict:
    """`{"licence", "url"}` of a data set; `licence` given overrides.

    Raises:
        ValueError: for a data set whose licence this module does not know
            and no `licence` given.
    """
    if licence:
        return {"licence": licence, "url": LICENCES.get(dataset, {}).get("url")}
    if dataset not in LICENCES:
        raise ValueError(
            f"No licence is recorded for the data set {dataset}; state it with "
            "--licence (its terms, or 'no licence stated by its authors, see "
            "URL')."
        )
    return dict(LICENCES[dataset])


def training_command(config) -> str:
    """The `python -m dcgan_tf.train` command that trains `config` (a
    recorded `TrainConfig`): every flag whose value differs from what the
    data set's preset and the recipe would fill in, as a run records it
    (`--steps-per-epoch` too: one pass over the data gives the same)."""
    from dcgan_tf.config import TrainConfig

    default_recipe = TrainConfig(dataset=config.dataset).resolve().recipe
    base = TrainConfig(dataset=config.dataset, recipe=config.recipe).resolve()
    words = ["python", "-m", "dcgan_tf.train", "--dataset", config.dataset]
    if config.recipe != default_recipe:
        words += ["--recipe", config.recipe]
    for field in dataclasses.fields(TrainConfig):
        name = field.name
        if (
            field.metadata.get("flag") is False
            or name in NOT_CHOSEN
            or name in ("dataset", "recipe")
        ):
            continue
        value = getattr(config, name)
        if value is None or value == getattr(base, name):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else flag.replace("--", "--no-", 1))
        else:
            words += [flag, str(value)]
    return shlex.join(words)


def figures_rows(evaluation: dict) -> list[tuple[str, str]]:
    """`(name, "value ± spread")` for each figure of the card's evaluation."""
    rows = []
    for key, spread, label in FIGURES:
        if key not in evaluation:
            continue
        text = f"{evaluation[key]:.4g}"
        if spread and spread in evaluation:
            text += f" ± {evaluation[spread]:.2g}"
        rows.append((label, text))
    return rows


def render_markdown(card: dict) -> str:
    """`card.md`: the card dict as a page."""
    name = card["name"]
    training, data = card["training"], card["data"]
    evaluation, generator = card["evaluation"], card["generator"]
    height, width, channels = generator["image_shape"]
    kind = "conditional" if generator["class_names"] else "unconditional"
    lines = [
        f"# {name}",
        "",
        f"A DCGAN generator ({kind}, {height}x{width}x{channels} images, "
        f"{generator['latent_dim']}-dimensional {generator['latent_distribution']} "
        f"latents, {generator['parameters']:,} parameters, "
        f"{generator['bytes'] / 2**20:.2f} MiB) trained on {data['dataset']}, "
        f"shipped with dcgan_tf {card['shipped']['dcgan_tf']} on "
        f"{card['shipped']['date']}.",
        "",
        "```bash",
        f"python -m dcgan_tf.generate {name} --num 64 --seed 0 --out samples.png",
        "```",
        "",
        "![samples](samples.png)",
        "",
        f"The grid: {card['samples']['count']} samples, latents of seed "
        f"{card['samples']['seed']}.",
        "",
        "## Training",
        "",
        f"Command ({training['command_source']}):",
        "",
        "```bash",
        training["command"],
        "```",
        "",
        f"- data set: {data['dataset']}",
        f"- epochs: {training['epochs']} (the generator of epoch "
        f"{training['generator_epoch']})",
        f"- seed: {training['seed']}",
        f"- recipe: {training['recipe']}, batch size {training['batch_size']}",
        f"- machine: {training['machine']} ({training['machine_source']})",
        "",
        "## Quality",
        "",
        f"On the shipped {evaluation['features']} features, "
        f"{evaluation['num_samples']} samples (latent seed {evaluation['seed']}) "
        f"against {evaluation['num_real']} images of the {evaluation['real_split']} "
        "split; ± is the standard deviation over the library's subsets (KID, IS).",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {label} | {text} |" for label, text in figures_rows(evaluation)),
        "",
        f"Measured by `{evaluation['measured_by']}`; again with:",
        "",
        "```bash",
        evaluation["command"],
        "```",
        "",
        *_curve_lines(card.get("curve")),
        *_quick_check_lines(name, card.get("quick_check")),
        "## Data and licence",
        "",
        f"{data['dataset']}: {data['licence']}"
        + (f" ({data['url']})" if data.get("url") else "")
        + ".",
        "",
    ]
    return "\n".join(lines)


def _curve_lines(curve) -> list[str]:
    if not curve or not curve["points"]:
        return []
    return [
        "FID along training (the run's kept generators, "
        f"{curve['num_samples']} samples each, latent seed {curve['seed']}):",
        "",
        "| epoch | FID |",
        "|---|---|",
        *(f"| {p['epoch']} | {p['fid']:.4g} |" for p in curve["points"]),
        "",
    ]


def _quick_check_lines(name, quick) -> list[str]:
    if not quick:
        return []
    rows = [
        f"| {label} | {quick[key]['mean']:.4g} | {quick[key]['sd']:.2g} | "
        f"{quick[key]['low']:.4g} to {quick[key]['high']:.4g} |"
        for key, _, label in FIGURES
        if key in quick
    ]
    seeds = quick["seeds"]
    return [
        "## Quick check",
        "",
        f"The same figures at small counts, which a clone of the repository "
        f"measures again in seconds: {quick['num_samples']} samples against the "
        f"{quick['num_real']} images of `{quick['data_dir']}` "
        f"({quick['split']} split), over latent seeds {seeds[0]} to {seeds[-1]}; "
        f"the range is the {quick['spread']} (`tests/test_preset_cards.py` "
        "checks that other seeds fall in it). One seed:",
        "",
        "```bash",
        f"python -m dcgan_tf.evaluate {name} --data-dir {quick['data_dir']} "
        f"--split {quick['split']} --metrics fid kid is "
        f"--num-samples {quick['num_samples']} --seed {seeds[0]}",
        "```",
        "",
        "| metric | mean | sd | range |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


SUMMARY_HEADER = (
    "| preset | data, images | recipe, epochs | FID | KID | IS | generator |\n"
    "|---|---|---|---|---|---|---|"
)


def summary_row(card: dict) -> str:
    """The card's row of docs/presets.md's table (`SUMMARY_HEADER`)."""
    generator, training = card["generator"], card["training"]
    evaluation = card["evaluation"]
    kind = "conditional" if generator["class_names"] else "unconditional"
    shape = "x".join(map(str, generator["image_shape"]))
    figures = dict(figures_rows(evaluation))
    return (
        f"| [{card['name']}](../dcgan_tf/presets/{card['name']}/card.md) "
        f"| {card['data']['dataset']}, {kind}, {shape} "
        f"| {training['recipe']}, {training['generator_epoch']} "
        f"| {figures['FID']} | {figures['KID']} | {figures['IS']} "
        f"| {generator['bytes'] / 2**20:.1f} MiB |"
    )
