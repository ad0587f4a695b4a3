# Custom SDK container for Dataflow: the project, what its workers import, and (optionally) Lean.
# The tag is the code's version (package version and git commit), so a job's workers run the
# launcher's code: `make image IMAGE=gcr.io/PROJECT/deepcorpus` builds gcr.io/PROJECT/deepcorpus:$(tag),
# and the launcher warns when --sdk_container_image names another tag.
#   deepcorpus math run ... --runner DataflowRunner --sdk_container_image gcr.io/PROJECT/deepcorpus:TAG
# Workers get the plain dependencies (pyproject.toml): no torch, triton, duckdb or matplotlib,
# which only the launcher uses (the `launcher` extra).
FROM apache/beam_python3.11_sdk:2.77.0
ARG DEEPCORPUS_VERSION=unknown
LABEL org.opencontainers.image.version="${DEEPCORPUS_VERSION}"

WORKDIR /opt/deepcorpus
COPY pyproject.toml setup.py README.md ./
COPY deepcorpus deepcorpus
COPY pipelines pipelines
COPY classifiers classifiers
COPY dedup dedup
COPY formal formal
COPY model model
COPY train train
RUN pip install --no-cache-dir '.[gcp]'

# Optional Lean 4 toolchain and the leanprover-community REPL, for the formal pipeline's verifier.
# LEAN_TOOLCHAIN empty = no Lean. REPL_REV defaults to the toolchain's tag (the REPL is built per Lean
# version). MATHLIB=1 also fetches Mathlib at the same tag with its build cache (several GB) and makes
# the workers run the REPL inside it, so `--header mathlib` works:
#   docker build --build-arg LEAN_TOOLCHAIN=leanprover/lean4:v4.24.0 --build-arg MATHLIB=1 -t IMAGE .
ARG LEAN_TOOLCHAIN=""
ARG REPL_REV=""
ARG MATHLIB=0
RUN if [ -n "$LEAN_TOOLCHAIN" ]; then \
      set -e; \
      tag="${REPL_REV:-${LEAN_TOOLCHAIN##*:}}"; \
      apt-get update && apt-get install -y --no-install-recommends curl git ca-certificates && \
      curl -sSf https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh | \
        sh -s -- -y --default-toolchain "$LEAN_TOOLCHAIN" && \
      git clone --depth 1 --branch "$tag" https://github.com/leanprover-community/repl /opt/repl && \
      cd /opt/repl && /root/.elan/bin/lake build && \
      if [ "$MATHLIB" = "1" ]; then \
        git clone --depth 1 --branch "$tag" https://github.com/leanprover-community/mathlib4 /opt/mathlib4 && \
        cd /opt/mathlib4 && /root/.elan/bin/lake exe cache get && /root/.elan/bin/lake build; \
      fi; \
      rm -rf /var/lib/apt/lists/*; \
    fi
ENV PATH="/root/.elan/bin:/opt/repl/.lake/build/bin:${PATH}"
# Read by formal/backends.py on the workers when --lean-project is not given (ignored if absent):
# the REPL then runs as `lake env repl` inside Mathlib.
ENV DEEPCORPUS_LEAN_PROJECT=/opt/mathlib4

ENTRYPOINT ["/opt/apache/beam/boot"]
