// QDQ -> integer rewrites on a loaded graph (see lower_qdq.cpp for the patterns). What is left
// runs in float, so any valid QDQ file runs; only the recognized patterns run in integers.
#pragma once
#include <map>
#include <string>

#include "graph/graph.h"

namespace qfrt {

void lower_qdq(Graph& g);

// Node count per op type (after lowering: shows what runs in integers and what in float).
std::map<std::string, int> op_histogram(const Graph& g);

}  // namespace qfrt
