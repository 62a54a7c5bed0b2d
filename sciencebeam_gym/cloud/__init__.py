"""Running the stages on Google Cloud: Dataflow options, Vertex AI jobs, Cloud Storage."""
