# Sourced by the fixture scripts (after vitc= is set): fixture_batch MODEL.onnx prints `--batch 1` when
# the model's batch is symbolic and must be pinned, nothing when the export fixed it (--batch on a fixed
# batch is an error).
fixture_batch() {
  "$vitc" ir "$1" -O0 --stats >/dev/null 2>&1 || echo "--batch 1"
}
