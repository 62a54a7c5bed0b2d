"""The HTTP service of ./serve.sh: the trained model behind extract.sh's and predict.sh's work,
GROBID's paths, and a page to look at painted pages beside their fields.

    ./serve.sh --model .models/pix2pix/v4-default/export --port 8080

It stands on extract/ and serving/ (and the floor below them); nothing imports it. The server
process parses requests and keeps the limits; worker processes (pool.py) hold the model and do
the work (jobs.py). See doc/serve.md.
"""
