"""The modern recipe's layers (`--recipe modern`, docs/recipes.md), plugged
into the paper's networks by name: resize-convolution upsampling in G
(Odena, Dumoulin and Olah 2016), spectral normalisation in D (Miyato et al.
2018) and the minibatch standard deviation before D's last block (Karras et
al. 2018, §3). The layers themselves are in `dcgan_tf.model.layers`.
"""

from keras import layers

from dcgan_tf.model import networks
from dcgan_tf.model.layers import MinibatchStddev, SpectralConv2D, SpectralDense

# Odena, Dumoulin and Olah 2016: resize, then a stride-1 convolution, whose
# every output pixel sees the same number of inputs: 3x3, the smallest
# centred kernel (as BigGAN's and SNGAN's up-blocks).
RESIZE_KERNEL_SIZE = 3


def resize_convolution(interpolation: str):
    """The upsampling that resizes by 2 with `interpolation` ("nearest" or
    "bilinear"), `{prefix}_upsample`, then convolves, `{prefix}_conv` (or
    `to_image` for the last): built-in Keras layers."""

    def upsampling(width, prefix, use_bias):
        return [
            layers.UpSampling2D(
                2, interpolation=interpolation, name=f"{prefix}_upsample"
            ),
            layers.Conv2D(
                width,
                RESIZE_KERNEL_SIZE,
                padding="same",
                use_bias=use_bias,
                kernel_initializer=networks.weight_initializer(),
                name=prefix if prefix == "to_image" else f"{prefix}_conv",
            ),
        ]

    return upsampling


networks.UPSAMPLINGS["resize"] = resize_convolution("nearest")
networks.UPSAMPLINGS["resize-bilinear"] = resize_convolution("bilinear")
# Spectral norm replaces batch norm: every convolution and dense layer
# divides its kernel by its largest singular value.
networks.DISCRIMINATOR_LAYERS["spectral"] = networks.DiscriminatorLayers(
    SpectralConv2D, SpectralDense, batch_norm=False
)
networks.DISCRIMINATOR_ADDITIONS["minibatch_stddev"] = lambda: MinibatchStddev(
    name="minibatch_stddev"
)
