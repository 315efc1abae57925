// Conversions between yaml-cpp nodes and nlohmann::json, for the free-form parts of a kubeconfig
// (the exec extension handed to plugins). Internal to kube/: yaml-cpp is a private dependency.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace meshtrust::kube {

// Quoted scalars become strings; plain scalars become null, booleans or numbers when they read
// as such (YAML's core schema), else strings.
nlohmann::json yaml_to_json(const YAML::Node& node);

// Emits `value` so that yaml_to_json reads back the same JSON (strings are always quoted).
void emit_json(YAML::Emitter& out, const nlohmann::json& value);

}  // namespace meshtrust::kube
