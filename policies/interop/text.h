// Small text helpers the interop files share (import, export, query). Internal to
// policies/interop/.
#pragma once

#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace canarysim {

// ASCII lower case.
std::string lower(std::string s);
// A number as a policy file or a message writes it: up to 12 significant digits.
std::string number_text(double x);
// Items separated by `separator`.
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");
// The runs of characters between whitespace (spaces, tabs, line breaks), in order.
std::vector<std::string> words(const std::string& text);
// The parts of `text` between each `separator` (empty parts kept: "a||b" is a, "", b).
std::vector<std::string> split(const std::string& text, char separator);
// A YAML node as block-style text, ending in a newline.
std::string emit(const YAML::Node& n);

}  // namespace canarysim
