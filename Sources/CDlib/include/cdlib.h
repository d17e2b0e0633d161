#ifndef CDLIB_H
#define CDLIB_H
/* A C face of the parts of dlib (Debian's libdlib-dev 19.24) that the Faces module uses: the HOG
 * frontal face detector that is built into the library, and the 128-d face recognition ResNet
 * (dlib_face_recognition_resnet_model_v1.dat). C++ exceptions never cross this boundary: every call
 * that can fail returns a status and, on failure, a message in `error` (NUL-terminated, truncated). */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cdlib_hog_detector cdlib_hog_detector;
typedef struct cdlib_face_recognizer cdlib_face_recognizer;

/* One detection: the box (dlib convention, inclusive right/bottom), the SVM score, and which of the
 * detector's five filters fired (0 frontal, 1 left profile-ish, 2 right profile-ish, 3 and 4 frontal
 * rotated left/right; the order of dlib's built-in model). */
typedef struct {
    long left, top, right, bottom;
    double score;
    int filter;
} cdlib_detection;

cdlib_hog_detector *cdlib_hog_detector_create(void);
void cdlib_hog_detector_destroy(cdlib_hog_detector *detector);

/* Runs the detector on an RGB24 image (row stride `stride` bytes; HOG takes each pixel's strongest
 * channel gradient, as dlib does for colour images) after `upsample` 2x pyramid-up
 * steps, keeping detections whose score is above `adjust_threshold` (0 = dlib's default). Writes at
 * most `capacity` detections, best first, and returns how many it found in all (can exceed capacity),
 * or -1 on failure. */
long cdlib_hog_detect(cdlib_hog_detector *detector, const uint8_t *rgb, long width, long height, long stride,
                      int upsample, double adjust_threshold, cdlib_detection *out, long capacity,
                      char *error, size_t error_size);

/* The same on the region [left, right) x [top, bottom) of the image (clipped to it), resized by `scale`
 * (bilinear, dlib's resize_image) first; boxes are returned in the full image's coordinates. Checking
 * one candidate this way costs a few milliseconds where the whole frame would cost a hundred. */
long cdlib_hog_detect_region(cdlib_hog_detector *detector, const uint8_t *rgb, long width, long height, long stride,
                             long left, long top, long right, long bottom, double scale, double adjust_threshold,
                             cdlib_detection *out, long capacity, char *error, size_t error_size);

/* Loads the recognition network from a dlib .dat file; NULL (with `error` set) on failure. */
cdlib_face_recognizer *cdlib_face_recognizer_load(const char *path, char *error, size_t error_size);
void cdlib_face_recognizer_destroy(cdlib_face_recognizer *recognizer);

/* The 128-d descriptor of the face whose 68 (or 5) landmarks are `points` (x0, y0, x1, y1, … in
 * pixels), in an RGB24 image: dlib's own chip (get_face_chip_details, 150 px, `padding` 0.25 as the
 * Python binding's default) through the network, no jittering. Writes 128 floats; 0 on success. */
int cdlib_face_descriptor(cdlib_face_recognizer *recognizer, const uint8_t *rgb, long width, long height, long stride,
                          const double *points, int point_count, double padding, float *descriptor,
                          char *error, size_t error_size);

/* The same for several faces at once (one forward pass over the batch); `points` holds `faces` runs of
 * `point_count` points, `rgb` one image per face (pointers). */
int cdlib_face_descriptors(cdlib_face_recognizer *recognizer, const uint8_t *const *rgb, const long *width,
                           const long *height, const long *stride, const double *points, int point_count, int faces,
                           double padding, float *descriptors, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif
#endif
