"""The PyTorch peer: pytorch/examples' dcgan loop on exactly our networks.

`PeerDCGAN` mirrors a Keras generator and discriminator layer by layer as
`torch.nn` modules in PyTorch's own NCHW layout, copies their weights (so both
start from the same N(0, 0.02) draw), and trains them the way pytorch/examples'
`dcgan/main.py` does: one G forward; D's gradients from the real batch and the
detached fakes, accumulated, then Adam; G's loss through the updated D with
`backward()` (which, as in the example, also fills D's unused gradients),
then Adam. BCE on logits and Adam's epsilon match Keras'. With `compiled`,
the same loop calls both networks through `torch.compile` (the choice of a
PyTorch user who cares about speed). Imports torch, never Keras: the models
are only read.
"""

import numpy as np
import torch
from torch import nn

# pytorch/examples dcgan: BCELoss on a sigmoid output; on logits the same loss,
# as dcgan_tf.model.losses computes it.
_BCE = nn.BCEWithLogitsLoss()


def _padding(layer) -> int:
    """PyTorch's symmetric padding for a Keras stride-2 'same' layer."""
    (kernel, _), (stride, _) = layer.kernel_size, layer.strides
    if layer.padding != "same" or (kernel - stride) % 2:
        raise ValueError(f"Cannot mirror {layer.name}: padding {layer.padding}.")
    return (kernel - stride) // 2


def mirror(model) -> nn.Sequential:
    """A `torch.nn.Sequential` (NCHW) with the layers of a Keras DCGAN network.

    Args:
        model: a Keras `Sequential` from `dcgan_tf.model.networks`.

    Returns:
        The untrained PyTorch network; `copy_weights` fills it.

    Raises:
        ValueError: for a layer with no PyTorch counterpart here.
    """
    modules = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            bias = layer.use_bias
            modules.append(nn.Linear(layer.input.shape[-1], layer.units, bias=bias))
        elif kind == "Reshape":
            height, width, channels = layer.target_shape
            modules.append(nn.Unflatten(1, (channels, height, width)))
        elif kind == "BatchNormalization":
            channels = layer.input.shape[-1]
            # Keras' momentum is the share kept; PyTorch's the share replaced.
            modules.append(
                nn.BatchNorm2d(channels, eps=layer.epsilon, momentum=1 - layer.momentum)
            )
        elif kind == "ReLU":
            modules.append(nn.ReLU(inplace=True))
        elif kind == "LeakyReLU":
            modules.append(nn.LeakyReLU(layer.negative_slope, inplace=True))
        elif kind in ("Conv2D", "Conv2DTranspose"):
            convolution = nn.Conv2d if kind == "Conv2D" else nn.ConvTranspose2d
            modules.append(
                convolution(
                    layer.input.shape[-1],
                    layer.filters,
                    layer.kernel_size,
                    stride=layer.strides,
                    padding=_padding(layer),
                    bias=layer.use_bias,
                )
            )
        elif kind == "Flatten":
            modules.append(nn.Flatten())
        elif kind == "Activation" and layer.activation.__name__ == "tanh":
            modules.append(nn.Tanh())
        else:
            raise ValueError(f"Cannot mirror layer {layer.name} ({kind}).")
    return nn.Sequential(*modules)


def _nchw_order(shape) -> np.ndarray:
    """Where each NCHW-flattened feature sits in the NHWC-flattened order."""
    height, width, channels = shape
    return np.arange(height * width * channels).reshape(shape).transpose(2, 0, 1)


def copy_weights(model, network: nn.Sequential) -> None:
    """Copies a Keras network's weights into its `mirror`, converting layouts."""
    layers = list(model.layers)
    for index, (layer, module) in enumerate(zip(layers, network)):
        before = layers[index - 1] if index else None
        after = layers[index + 1] if index + 1 < len(layers) else None
        values = [np.asarray(v) for v in layer.get_weights()]
        params = []
        if isinstance(module, nn.Linear):
            kernel = values[0]
            if type(before).__name__ == "Flatten":  # inputs flattened from NCHW
                kernel = kernel[_nchw_order(before.input.shape[1:]).reshape(-1)]
            if type(after).__name__ == "Reshape":  # outputs unflattened to NCHW
                kernel = kernel[:, _nchw_order(after.target_shape).reshape(-1)]
            params = [kernel.T] + values[1:]
        elif isinstance(module, nn.Conv2d):
            params = [values[0].transpose(3, 2, 0, 1)] + values[1:]
        elif isinstance(module, nn.ConvTranspose2d):
            # Keras (kh, kw, out, in); PyTorch (in, out, kh, kw): no flip.
            params = [values[0].transpose(3, 2, 0, 1)] + values[1:]
        elif isinstance(module, nn.BatchNorm2d):
            gamma, beta, mean, variance = values
            params = [gamma, beta]
            module.running_mean.copy_(torch.from_numpy(mean))
            module.running_var.copy_(torch.from_numpy(variance))
        with torch.no_grad():
            for param, value in zip(module.parameters(), params):
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


class PeerDCGAN:
    """Plain PyTorch training of a mirrored generator and discriminator.

    Args:
        generator: the Keras generator to mirror (and copy weights from).
        discriminator: the Keras discriminator to mirror.
        learning_rate: Adam's learning rate (Radford et al. §4: 2e-4).
        beta_1: Adam's beta_1 (Radford et al. §4: 0.5).
        epsilon: Adam's epsilon; Keras' default 1e-7 (PyTorch's is 1e-8).
        seed: seed of the latents the peer draws itself.
        compiled: call the networks through `torch.compile` (default
            backend, Inductor; it compiles on the first step, which may
            raise where there is no C++ compiler).
    """

    def __init__(
        self,
        generator,
        discriminator,
        learning_rate=2e-4,
        beta_1=0.5,
        epsilon=1e-7,
        seed=0,
        compiled=False,
    ):
        self.latent_dim = int(generator.input_shape[-1])
        self.generator = mirror(generator)
        self.discriminator = mirror(discriminator)
        copy_weights(generator, self.generator)
        copy_weights(discriminator, self.discriminator)
        self.generator.train()
        self.discriminator.train()
        adam = dict(lr=learning_rate, betas=(beta_1, 0.999), eps=epsilon)
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), **adam)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), **adam)
        self.random = torch.Generator().manual_seed(seed)
        # What the step calls: the networks, or compiled modules sharing their
        # parameters (so `generator` and `discriminator` stay the trained ones).
        self._g, self._d = self.generator, self.discriminator
        if compiled:
            self._g, self._d = torch.compile(self._g), torch.compile(self._d)

    def step(self, real_images: torch.Tensor, latents: torch.Tensor | None = None):
        """One training step on an NCHW batch, in pytorch/examples' order.

        Args:
            real_images: float32 `(batch, channels, height, width)` in [-1, 1].
            latents: `(batch, latent_dim)`, or None to draw N(0, 1) latents.

        Returns:
            `(d_loss, g_loss)` as 0-d tensors, not synced to the host.
        """
        batch = real_images.shape[0]
        if latents is None:
            latents = torch.randn(batch, self.latent_dim, generator=self.random)
        real_targets = torch.ones(batch, 1)
        fake_targets = torch.zeros(batch, 1)

        # 1. Update D: maximize log(D(x)) + log(1 - D(G(z))).
        self.discriminator.zero_grad()
        d_loss_real = _BCE(self._d(real_images), real_targets)
        d_loss_real.backward()
        fake_images = self._g(latents)
        d_loss_fake = _BCE(self._d(fake_images.detach()), fake_targets)
        d_loss_fake.backward()
        self.d_optimizer.step()

        # 2. Update G: maximize log(D(G(z))) through the updated D.
        self.generator.zero_grad()
        g_loss = _BCE(self._d(fake_images), real_targets)
        g_loss.backward()
        self.g_optimizer.step()
        return (d_loss_real + d_loss_fake).detach(), g_loss.detach()


def to_nchw(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC images as float32 NCHW in [-1, 1], as `make_dataset` scales them."""
    scaled = torch.from_numpy(np.asarray(images, dtype=np.float32) / 127.5 - 1.0)
    return scaled.permute(0, 3, 1, 2).contiguous()
