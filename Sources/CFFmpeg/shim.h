// Swift cannot import function-like macros; these inline wrappers expose the few FFmpeg needs.
#pragma once
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/display.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/error.h>
#include <libavutil/log.h>

static inline int avz_error_eagain(void) { return AVERROR(EAGAIN); }
static inline int avz_error_eof(void) { return AVERROR_EOF; }
static inline int avz_error_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t avz_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational avz_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int avz_time_base(void) { return AV_TIME_BASE; }
static inline int avz_averror(int e) { return AVERROR(e); }
static inline void avz_err2str(int errnum, char *buf, size_t size) { av_strerror(errnum, buf, size); }
static inline int avz_fmt_globalheader(void) { return AVFMT_GLOBALHEADER; }
static inline int avz_fmt_nofile(void) { return AVFMT_NOFILE; }
static inline int avz_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
static inline int avz_frame_flag_corrupt(void) { return AV_FRAME_FLAG_CORRUPT; }
