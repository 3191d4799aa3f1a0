/* log.h - leveled logging to stderr. Thread-safe (one write per line).
 * Level is set by enh_log_set_level() (the CLI maps ENHANCE_LOG to it); default warn. */
#ifndef ENH_CORE_LOG_H
#define ENH_CORE_LOG_H

typedef enum { ENH_LOG_ERROR = 0, ENH_LOG_WARN, ENH_LOG_INFO, ENH_LOG_DEBUG } enh_log_level;

void enh_log_set_level(enh_log_level level);
enh_log_level enh_log_get_level(void);
void enh_log(enh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ENH_LOGE(...) enh_log(ENH_LOG_ERROR, __VA_ARGS__)
#define ENH_LOGW(...) enh_log(ENH_LOG_WARN, __VA_ARGS__)
#define ENH_LOGI(...) enh_log(ENH_LOG_INFO, __VA_ARGS__)
#define ENH_LOGD(...) enh_log(ENH_LOG_DEBUG, __VA_ARGS__)

#endif
