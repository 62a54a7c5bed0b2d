"""Package definition, with one extra per stage so each place installs only what it imports.

    pip install -c constraints.txt -e '.[dev]'   everything (what ./install.sh does)
    pip install '.[train]'                        the trainer, evaluation and export
    pip install '.[beam,generate]'                the data-generation pipeline

Dataflow workers install the package through `--setup_file ./setup.py` (the core below; Beam is
already in their image) plus the requirements of their stage; the Vertex AI training image
already holds TensorFlow, so the core is all that the job installs there.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent

# What every stage imports: arrays and images, and gs:// uploads with their checksums.
CORE = [
    "numpy>=1.26",
    "pillow>=10",
    "google-cloud-storage>=2.10",
    "google-crc32c>=1.5",
]

BEAM = ["apache-beam[gcp]>=2.60,<3"]
TRAIN = [
    "tensorflow>=2.16,<3",
    "tensorboard>=2.16",
    "matplotlib>=3.8",  # the confusion-matrix image of the evaluation
    "pypdfium2>=4.30",  # predict.sh renders PDF pages
]
GENERATE = [
    "pypdfium2>=4.30",
    "rapidfuzz>=3",
    "lxml>=5",
    # the embedded sample corpus writes its PDFs with fpdf2, in fonts found through matplotlib
    "fpdf2>=2.7.9",
    "fonttools>=4.40",
    "matplotlib>=3.8",
]
# the word labeller: a linear-chain CRF over each page's words
WORDS = ["python-crfsuite>=0.9.10"]
# ./serve.sh: the HTTP service (ASGI app, its server, multipart uploads)
# fastapi-offline: the API docs' Swagger UI shipped in the package (the service works offline)
SERVE = ["fastapi>=0.110", "fastapi-offline>=1.7", "uvicorn>=0.29", "python-multipart>=0.0.9"]
# build + setuptools: cloud jobs build the sdist offline (python -m build --no-isolation)
CLOUD = ["google-cloud-aiplatform>=1.60", "build>=1", "setuptools>=64"]
TEST = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "ruff>=0.6",
    "gcp-storage-emulator>=2024.8.3",
    "hypothesis>=6.100",  # fuzzing the text layer and the layout
    "grobid-client-python>=0.0.9",  # GROBID's own client, against ./serve.sh
    "playwright>=1.45",  # drives Debian's chromium for the service page's browser test
    "httpx>=0.27",
]

EXTRAS = {
    "beam": BEAM,
    "train": TRAIN,
    "generate": GENERATE,
    "cloud": CLOUD,
    "words": WORDS,
    "serve": SERVE,
    "dev": sorted(set(BEAM + TRAIN + GENERATE + CLOUD + WORDS + SERVE + TEST)),
}


def read_version() -> str:
    """`__version__` of the package, read as text: importing it would need its dependencies."""
    text = (HERE / "sciencebeam_gym" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if not match:
        raise RuntimeError("sciencebeam_gym/__init__.py has no __version__ line")
    return match.group(1)


setup(
    name="sciencebeam-gym",
    version=read_version(),
    description="Train a model that paints the structure of scientific article pages",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],
    classifiers=[
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
    ],
    packages=find_packages(exclude=("tests", "tests.*", "benchmarks", "benchmarks.*")),
    package_data={
        "sciencebeam_gym": ["color_map.conf", "xml-mapping.conf", "service/static/*"],
    },
    # TensorFlow 2.17 (the Vertex AI image) starts at 3.9 and Beam 2.6x at 3.9/3.10; TensorFlow
    # and Beam publish no wheels for 3.14 yet.
    python_requires=">=3.10,<3.14",
    install_requires=CORE,
    extras_require=EXTRAS,
)
