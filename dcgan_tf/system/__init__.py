"""The plumbing every other package stands on, importing none of them.

`files`: writing any file atomically (never through a link), refusing a write
that cannot fit, a lock; `console`: TensorFlow imported without its C++
start-up lines; `machine`: the CPU's model and vector features (AVX2, AVX-512,
BF16, AMX) and ISA caps for the libraries.
"""
