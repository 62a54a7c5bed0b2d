"""Package definition; Dataflow workers install the package through `--setup_file ./setup.py`."""

from setuptools import find_packages, setup

REQUIRED = [
    "apache-beam[gcp]>=2.60,<3",
    "tensorflow>=2.16,<3",
    "tensorboard>=2.16",
    "google-cloud-storage>=2.10",
    "google-crc32c>=1.5",
    "pillow>=10",
    "numpy>=1.26",
    "matplotlib>=3.8",
    "pypdfium2>=4.30",
    "rapidfuzz>=3",
    "lxml>=5",
    "fpdf2>=2.7.9",
    "fonttools>=4.40",
]

EXTRAS = {
    "cloud": ["google-cloud-aiplatform>=1.60"],
    "dev": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        "ruff>=0.6",
        "gcp-storage-emulator>=2024.8.3",
        "google-cloud-aiplatform>=1.60",
    ],
}

setup(
    name="sciencebeam-gym",
    version="0.1.0",
    description="Train a model that paints the structure of scientific article pages",
    packages=find_packages(exclude=("tests", "tests.*", "benchmarks")),
    python_requires=">=3.10",
    install_requires=REQUIRED,
    extras_require=EXTRAS,
)
