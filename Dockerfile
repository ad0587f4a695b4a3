# Custom SDK container for Dataflow: the project, its pinned dependencies, and (optionally) Lean.
#   docker build -t gcr.io/PROJECT/deepcorpus:TAG --build-arg LEAN_TOOLCHAIN=leanprover/lean4:v4.24.0 .
#   deepcorpus math run ... --runner DataflowRunner --sdk_container_image gcr.io/PROJECT/deepcorpus:TAG
FROM apache/beam_python3.11_sdk:2.77.0

# Workers have no GPU: the CPU build of torch keeps the image small.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

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
# LEAN_TOOLCHAIN empty = no Lean. MATHLIB=1 also fetches Mathlib's build cache (several GB).
ARG LEAN_TOOLCHAIN=""
ARG REPL_REV="v4.24.0"
ARG MATHLIB=0
RUN if [ -n "$LEAN_TOOLCHAIN" ]; then \
      apt-get update && apt-get install -y --no-install-recommends curl git ca-certificates && \
      curl -sSf https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh | \
        sh -s -- -y --default-toolchain "$LEAN_TOOLCHAIN" && \
      git clone --depth 1 --branch "$REPL_REV" https://github.com/leanprover-community/repl /opt/repl && \
      cd /opt/repl && /root/.elan/bin/lake build && \
      if [ "$MATHLIB" = "1" ]; then \
        git clone --depth 1 https://github.com/leanprover-community/mathlib4 /opt/mathlib4 && \
        cd /opt/mathlib4 && /root/.elan/bin/lake exe cache get && /root/.elan/bin/lake build; \
      fi; \
    fi
ENV PATH="/root/.elan/bin:/opt/repl/.lake/build/bin:${PATH}"

ENTRYPOINT ["/opt/apache/beam/boot"]
