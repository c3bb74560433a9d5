"""The one compiled module of attunement; everything else is declared in pyproject.toml.

``attunement.coding._native`` holds the local coder's two hot loops in C (see
``attunement.coding.fastpath``). It is optional: where no C compiler is found the install goes
on without it and the coder runs its Python reference, with the same outputs, slower.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "attunement.coding._native",
            sources=["src/attunement/coding/_native.c"],
            optional=True,
        )
    ]
)
