"""What the commands share, so that commands never import each other.

Each command's `main()` parses and checks its flags, calls `quiet_tensorflow()`
before anything imports Keras, then runs its body through `run_command`, which
turns the library's expected errors into one line on stderr and exit code 2
(stylegan2-ada's discipline: scripts share one module of helpers). Heavy
modules (TensorFlow, Keras, the generator loader) are imported inside the
functions that need them, so that `--help` and flag errors answer at once.

Its parts: `arguments` (shared flags and their checks), `backends` (choosing
and checking the Keras backend), `errors` (one-line errors, signals, warnings).
"""

from dcgan_tf.cli.arguments import (
    IMAGE_SUFFIXES,
    INDICES_HELP,
    MAX_SEED,
    add_config_arguments,
    add_generator_arguments,
    add_source_arguments,
    check_image_path,
    check_positive,
    check_positive_finite,
    check_source,
    check_writable,
    chosen_latents,
    config_values,
    describe_generator,
    generator_help,
    locate_generator,
    resolve_seed,
    seed_value,
    write_output,
)
from dcgan_tf.cli.backends import (
    BACKEND_INSTALL,
    BACKENDS,
    OTHER_KERAS_BACKENDS,
    add_backend_argument,
    check_backend,
    chosen_backend,
    use_backend,
)
from dcgan_tf.cli.errors import (
    OUT_OF_MEMORY,
    OUT_OF_MEMORY_ADVICE,
    fail,
    out_of_memory,
    quiet_tensorflow,
    run_command,
    show_warnings_in_one_line,
)

__all__ = [
    "BACKENDS",
    "BACKEND_INSTALL",
    "IMAGE_SUFFIXES",
    "INDICES_HELP",
    "MAX_SEED",
    "OTHER_KERAS_BACKENDS",
    "OUT_OF_MEMORY",
    "OUT_OF_MEMORY_ADVICE",
    "add_backend_argument",
    "add_config_arguments",
    "add_generator_arguments",
    "add_source_arguments",
    "check_backend",
    "check_image_path",
    "check_positive",
    "check_positive_finite",
    "check_source",
    "check_writable",
    "chosen_backend",
    "chosen_latents",
    "config_values",
    "describe_generator",
    "fail",
    "generator_help",
    "locate_generator",
    "out_of_memory",
    "quiet_tensorflow",
    "resolve_seed",
    "run_command",
    "seed_value",
    "show_warnings_in_one_line",
    "use_backend",
    "write_output",
]
