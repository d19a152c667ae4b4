"""A local web page to explore a trained generator: sample, pick, walk, do
the paper's vector arithmetic, slide along directions, project an image and
keep what was found (PNG, GIF, `.npz`). `python -m dcgan_tf.explore` runs it.
"""

from dcgan_tf.explorer.engine import Explorer
from dcgan_tf.explorer.server import create_app
from dcgan_tf.explorer.serving import serve

__all__ = ["Explorer", "create_app", "serve"]
