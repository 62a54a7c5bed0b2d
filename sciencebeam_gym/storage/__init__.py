"""Storage in one place: local and gs:// files for every stage, and what TensorFlow needs of them.

- `paths`             paths as text: join, globs, gs:// URLs checked (no client, no file opened)
- `fs`                the files interface every stage uses: read, write atomically, glob, delete,
                      tree copies (local, gs://, other schemes through Beam)
- `gcs_client`        the Cloud Storage client: credentials, the emulator, short timeouts,
                      endpoint checks, what is there when a path is not
- `uploads`           checksummed, parallel, re-runnable uploads (cloud/upload.py is their CLI)
- `tensorflow_paths`  a path TensorFlow can use for each gs:// input and output (stage, fuse,
                      native), opened by a command line only
- `folder_lock`       an exclusive lock on an output folder
- `output_marks`      the mark on files a run writes beside a user's own (never overwrite theirs)
- `errors`            StorageError, the storage problem a user can fix

This package imports no stage: the stages stand on it.
"""
