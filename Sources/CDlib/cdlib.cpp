// The C face of dlib for the Faces module; see include/cdlib.h.
#include "cdlib.h"

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

void set_error(char *error, size_t size, const std::string &message) {
    if (!error || size == 0) return;
    size_t n = std::min(size - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

// The face recognition network of dlib_face_recognition_resnet_model_v1.dat, as the model was trained
// (dlib's dnn_face_recognition_ex.cpp names the same layers): a 29-layer ResNet on 150x150 RGB chips,
// 7x7/2 stem with 32 filters and a 3x3/2 max pool, then residual stages of 32, 64, 128 and 256 filters
// (3, 4, 3 and 3 blocks; the first block of each later stage strides 2 and its shortcut is a 2x2
// average pool, zero-padded in channels by add_prev), global average pooling, and a 128-d projection
// without bias. Batch norm is folded into `affine` layers for inference; the file fixes every size, so
// a mismatch here fails to deserialize rather than computing something else.
template <int filters, int stride, typename below>
using conv_pair = dlib::affine<dlib::con<filters, 3, 3, 1, 1,
                  dlib::relu<dlib::affine<dlib::con<filters, 3, 3, stride, stride, below>>>>>;

template <int filters, typename below>
using residual_block = dlib::relu<dlib::add_prev1<conv_pair<filters, 1, dlib::tag1<below>>>>;

template <int filters, typename below>
using residual_down = dlib::relu<dlib::add_prev2<dlib::avg_pool<2, 2, 2, 2,
                      dlib::skip1<dlib::tag2<conv_pair<filters, 2, dlib::tag1<below>>>>>>>;

template <typename below> using stage32 = residual_block<32, residual_block<32, residual_block<32, below>>>;
template <typename below> using stage64 =
    residual_block<64, residual_block<64, residual_block<64, residual_down<64, below>>>>;
template <typename below> using stage128 = residual_block<128, residual_block<128, residual_down<128, below>>>;
template <typename below> using stage256 = residual_block<256, residual_block<256, residual_down<256, below>>>;
template <typename below> using stage256_out = residual_down<256, below>;

using recognition_net = dlib::loss_metric<dlib::fc_no_bias<128, dlib::avg_pool_everything<
    stage256_out<stage256<stage128<stage64<stage32<
    dlib::max_pool<3, 3, 2, 2, dlib::relu<dlib::affine<dlib::con<32, 7, 7, 2, 2,
    dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

dlib::full_object_detection shape_of(const double *points, int count) {
    std::vector<dlib::point> parts;
    parts.reserve(count);
    long l = 0, t = 0, r = 0, b = 0;
    for (int i = 0; i < count; ++i) {
        dlib::point p(static_cast<long>(std::lround(points[2 * i])), static_cast<long>(std::lround(points[2 * i + 1])));
        if (i == 0) { l = r = p.x(); t = b = p.y(); }
        l = std::min(l, p.x()); r = std::max(r, p.x()); t = std::min(t, p.y()); b = std::max(b, p.y());
        parts.push_back(p);
    }
    return dlib::full_object_detection(dlib::rectangle(l, t, r, b), parts);
}

dlib::matrix<dlib::rgb_pixel> chip_of(const uint8_t *rgb, long width, long height, long stride,
                                      const dlib::full_object_detection &shape, double padding) {
    dlib::matrix<dlib::rgb_pixel> image(height, width);
    for (long y = 0; y < height; ++y) {
        const uint8_t *row = rgb + y * stride;
        for (long x = 0; x < width; ++x) image(y, x) = dlib::rgb_pixel(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
    }
    dlib::matrix<dlib::rgb_pixel> chip;
    dlib::extract_image_chip(image, dlib::get_face_chip_details(shape, 150, padding), chip);
    return chip;
}

}  // namespace

struct cdlib_hog_detector {
    dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
};

struct cdlib_face_recognizer {
    recognition_net net;
};

extern "C" {

cdlib_hog_detector *cdlib_hog_detector_create(void) {
    try {
        return new cdlib_hog_detector();
    } catch (...) {
        return nullptr;
    }
}

void cdlib_hog_detector_destroy(cdlib_hog_detector *detector) { delete detector; }

long cdlib_hog_detect(cdlib_hog_detector *detector, const uint8_t *rgb, long width, long height, long stride,
                      int upsample, double adjust_threshold, cdlib_detection *out, long capacity,
                      char *error, size_t error_size) {
    try {
        dlib::array2d<dlib::rgb_pixel> image(height, width);
        for (long y = 0; y < height; ++y) {
            const uint8_t *row = rgb + y * stride;
            for (long x = 0; x < width; ++x) image[y][x] = dlib::rgb_pixel(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
        }
        // As the Python binding's detector(img, upsample): pyramid_up with pyramid_down<2>, then
        // detect and map the boxes back to the input's coordinates.
        dlib::pyramid_down<2> pyramid;
        for (int i = 0; i < upsample; ++i) dlib::pyramid_up(image, pyramid);
        std::vector<dlib::rect_detection> found;
        detector->detector(image, found, adjust_threshold);
        std::sort(found.begin(), found.end(), [](const dlib::rect_detection &a, const dlib::rect_detection &b) {
            return a.detection_confidence > b.detection_confidence;
        });
        long n = static_cast<long>(found.size());
        for (long i = 0; i < std::min(n, capacity); ++i) {
            dlib::rectangle r = found[i].rect;
            for (int k = 0; k < upsample; ++k) r = pyramid.rect_down(r);
            out[i] = cdlib_detection{r.left(), r.top(), r.right(), r.bottom(), found[i].detection_confidence,
                                     static_cast<int>(found[i].weight_index)};
        }
        return n;
    } catch (const std::exception &e) {
        set_error(error, error_size, e.what());
        return -1;
    }
}

long cdlib_hog_detect_region(cdlib_hog_detector *detector, const uint8_t *rgb, long width, long height, long stride,
                             long left, long top, long right, long bottom, double scale, double adjust_threshold,
                             cdlib_detection *out, long capacity, char *error, size_t error_size) {
    try {
        left = std::max(0L, left); top = std::max(0L, top);
        right = std::min(width, right); bottom = std::min(height, bottom);
        if (right - left < 8 || bottom - top < 8 || !(scale > 0)) return 0;
        dlib::array2d<dlib::rgb_pixel> crop(bottom - top, right - left);
        for (long y = top; y < bottom; ++y) {
            const uint8_t *row = rgb + y * stride;
            for (long x = left; x < right; ++x)
                crop[y - top][x - left] = dlib::rgb_pixel(row[3 * x], row[3 * x + 1], row[3 * x + 2]);
        }
        dlib::array2d<dlib::rgb_pixel> scaled(std::max(1L, std::lround((bottom - top) * scale)),
                                              std::max(1L, std::lround((right - left) * scale)));
        dlib::resize_image(crop, scaled);
        std::vector<dlib::rect_detection> found;
        detector->detector(scaled, found, adjust_threshold);
        std::sort(found.begin(), found.end(), [](const dlib::rect_detection &a, const dlib::rect_detection &b) {
            return a.detection_confidence > b.detection_confidence;
        });
        const double sx = double(right - left) / scaled.nc(), sy = double(bottom - top) / scaled.nr();
        long n = static_cast<long>(found.size());
        for (long i = 0; i < std::min(n, capacity); ++i) {
            const dlib::rectangle &r = found[i].rect;
            out[i] = cdlib_detection{left + std::lround(r.left() * sx), top + std::lround(r.top() * sy),
                                     left + std::lround((r.right() + 1) * sx) - 1, top + std::lround((r.bottom() + 1) * sy) - 1,
                                     found[i].detection_confidence, static_cast<int>(found[i].weight_index)};
        }
        return n;
    } catch (const std::exception &e) {
        set_error(error, error_size, e.what());
        return -1;
    }
}

cdlib_face_recognizer *cdlib_face_recognizer_load(const char *path, char *error, size_t error_size) {
    try {
        auto *r = new cdlib_face_recognizer();
        try {
            dlib::deserialize(path) >> r->net;
        } catch (...) {
            delete r;
            throw;
        }
        return r;
    } catch (const std::exception &e) {
        set_error(error, error_size, e.what());
        return nullptr;
    }
}

void cdlib_face_recognizer_destroy(cdlib_face_recognizer *recognizer) { delete recognizer; }

int cdlib_face_descriptors(cdlib_face_recognizer *recognizer, const uint8_t *const *rgb, const long *width,
                           const long *height, const long *stride, const double *points, int point_count, int faces,
                           double padding, float *descriptors, char *error, size_t error_size) {
    try {
        if (point_count != 68 && point_count != 5) throw dlib::error("a face needs 68 or 5 landmarks");
        std::vector<dlib::matrix<dlib::rgb_pixel>> chips;
        chips.reserve(faces);
        for (int f = 0; f < faces; ++f) {
            chips.push_back(chip_of(rgb[f], width[f], height[f], stride[f],
                                    shape_of(points + 2 * point_count * f, point_count), padding));
        }
        std::vector<dlib::matrix<float, 0, 1>> out = recognizer->net(chips);
        for (int f = 0; f < faces; ++f) {
            if (out[f].size() != 128) throw dlib::error("the network did not give 128 numbers");
            for (int k = 0; k < 128; ++k) descriptors[128 * f + k] = out[f](k);
        }
        return 0;
    } catch (const std::exception &e) {
        set_error(error, error_size, e.what());
        return -1;
    }
}

int cdlib_face_descriptor(cdlib_face_recognizer *recognizer, const uint8_t *rgb, long width, long height, long stride,
                          const double *points, int point_count, double padding, float *descriptor,
                          char *error, size_t error_size) {
    return cdlib_face_descriptors(recognizer, &rgb, &width, &height, &stride, points, point_count, 1, padding,
                                  descriptor, error, error_size);
}

}  // extern "C"
