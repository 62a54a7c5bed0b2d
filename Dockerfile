# The service of ./serve.sh with a trained model inside (doc/serve.md):
#   ./save-model.sh
#   docker build -t sciencebeam-gym-serve --build-arg MODEL=.models/pix2pix/v4-default/export .
#   docker run --rm -p 127.0.0.1:8080:8080 sciencebeam-gym-serve [--workers 2 --timeout 120 ...]
# MODEL is an export of save-model.sh inside the build context (the repository).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    CUDA_VISIBLE_DEVICES=""

WORKDIR /app
# the package and the versions it is tested with; the extras: the service (serve), the model
# (train: TensorFlow, pypdfium2), the text layer and the writers (generate: lxml), the word model
COPY setup.py pyproject.toml README.md LICENSE ./
COPY constraints/ constraints/
COPY sciencebeam_gym/ sciencebeam_gym/
RUN pip install --no-cache-dir -c constraints/local.txt ".[serve,train,generate,words]"

ARG MODEL=.models/pix2pix/v4-default/export
COPY ${MODEL} /model

RUN useradd --create-home gym
USER gym
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/api/isalive', timeout=4)"
# 0.0.0.0 is the container's own interface: publish the port on loopback or behind a proxy
ENTRYPOINT ["python", "-m", "sciencebeam_gym.service.cli", "--model", "/model", "--host", "0.0.0.0", "--port", "8080"]
