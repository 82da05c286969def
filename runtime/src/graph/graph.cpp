#include "graph/graph.h"

#include "core/error.h"

namespace qfrt {

namespace {
const Attr* find(const Node& n, const std::string& a, Attr::Kind k) {
  auto it = n.attrs.find(a);
  if (it == n.attrs.end()) return nullptr;
  if (it->second.kind != k) fail(n.label() + ": attribute '" + a + "' has the wrong type");
  return &it->second;
}
}  // namespace

int64_t Node::i(const std::string& a, int64_t def) const {
  const Attr* p = find(*this, a, Attr::Int);
  return p ? p->i : def;
}
float Node::f(const std::string& a, float def) const {
  const Attr* p = find(*this, a, Attr::Float);
  return p ? p->f : def;
}
std::vector<int64_t> Node::ints(const std::string& a, const std::vector<int64_t>& def) const {
  const Attr* p = find(*this, a, Attr::Ints);
  return p ? p->ints : def;
}
std::string Node::s(const std::string& a, const std::string& def) const {
  const Attr* p = find(*this, a, Attr::String);
  return p ? p->s : def;
}
std::string Node::label() const { return "node '" + name + "' (" + op + ")"; }

}  // namespace qfrt
