// Helpers shared by the llm unit tests: the shared test data and file images.
#pragma once
#include <gtest/gtest.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

namespace llmtest {

inline std::string shared_path(const char *rel) { return std::string(BF_SHARED_DIR) + "/" + rel; }

inline bool file_exists(const std::string &p) {
    FILE *f = fopen(p.c_str(), "rb");
    if (f) fclose(f);
    return f != nullptr;
}

inline std::string read_text(const std::string &p) {
    std::string s;
    FILE *f = fopen(p.c_str(), "rb");
    if (!f) return s;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
}

// A whole file as bytes (empty when it cannot be read).
inline std::vector<uint8_t> read_bytes(const std::string &p) {
    const std::string s = read_text(p);
    return std::vector<uint8_t>(s.begin(), s.end());
}

// A file image in 4-byte-aligned storage (load_model uses the weights in place).
struct Image {
    std::vector<float> store;
    size_t size = 0;
    const void *data() const { return store.data(); }
    unsigned char *bytes() { return reinterpret_cast<unsigned char *>(store.data()); }
    int32_t header(int i) const {
        int32_t v;
        memcpy(&v, reinterpret_cast<const unsigned char *>(store.data()) + 4 * i, 4);
        return v;
    }
    void set_header(int i, int32_t v) { memcpy(bytes() + 4 * i, &v, 4); }
    void resize(size_t n) {
        store.resize((n + 3) / 4 + 1);
        size = n;
    }
};

inline Image read_image(const std::string &p) {
    std::string s = read_text(p);
    Image im;
    im.resize(s.size());
    if (!s.empty()) memcpy(im.bytes(), s.data(), s.size());
    return im;
}

// Runs a shell command and returns its standard output.
inline std::string run_capture(const std::string &cmd, int *status = nullptr) {
    std::string out;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = pclose(p);
    if (status) *status = st;
    return out;
}

}  // namespace llmtest

#define LLM_REQUIRE_FILE(path)                                                               \
    do {                                                                                     \
        if (!llmtest::file_exists(path))                                                     \
            GTEST_SKIP() << "test data " << (path) << " is absent (set BF_SHARED_DIR)";       \
    } while (0)
