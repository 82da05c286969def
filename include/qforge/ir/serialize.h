// Graph structure <-> JSON. Initializer data is not included (only name, dtype, shape): the
// containers that hold a graph (checkpoints, packed models) store tensor data in their own
// binary sections. Attribute tensors are small and are included.
#pragma once
#include <nlohmann/json.hpp>

#include "qforge/ir/graph.h"

namespace qforge::ir {

nlohmann::json graph_to_json(const Graph& g);
// Initializers come back zero-filled with their recorded shape. Throws std::runtime_error
// naming the field on malformed input.
Graph graph_from_json(const nlohmann::json& j);

}  // namespace qforge::ir
