"""Packaging of the ``refinery`` library (``libs/refinery``) and its ``refinery`` command."""

from setuptools import find_packages, setup

setup(
    name="refinery",
    version="0.1.0",
    description="PySpark + Delta Lake jobs that turn raw multilingual corpora into clean, labelled training data",
    package_dir={"": "libs"},
    packages=find_packages("libs"),
    # The language-ID n-gram model (scripts/train_latin_langid.py) and its source note.
    package_data={"refinery.text": ["models/*.json", "models/*.md"]},
    python_requires=">=3.11",
    # Versions are pinned in requirements.txt (what `make` installs); these are the ranges
    # the code is written against, for installing the wheel into another environment.
    install_requires=[
        "pyspark>=4.1,<4.2",
        "delta-spark>=4.4,<4.5",
        "pyarrow>=15",
        "pandas>=2.2,<3",
        "PyYAML>=6",
        "pydantic>=2.7,<3",
        "charset-normalizer>=3",
    ],
    entry_points={"console_scripts": ["refinery=refinery.cli:main"]},
)
