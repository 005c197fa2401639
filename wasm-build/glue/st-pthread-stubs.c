/*
 * For single-thread cores only: thread attributes OpenH264 sets before pthread_create, which
 * Emscripten's pthread stubs lack. The st core never starts a thread (FFmpeg asks the encoder for
 * one), so setting an attribute has nothing to act on.
 */
#include <pthread.h>

int pthread_attr_setschedpolicy(pthread_attr_t *attr, int policy) { (void)attr; (void)policy; return 0; }
int pthread_attr_setscope(pthread_attr_t *attr, int scope) { (void)attr; (void)scope; return 0; }
