# Every dependency comes from a Debian package, found through pkg-config or its CMake package.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
# paho's CMake package refers to OpenSSL::SSL, so OpenSSL must be found first.
find_package(OpenSSL REQUIRED)
find_package(eclipse-paho-mqtt-c CONFIG REQUIRED)

pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(MONGOC REQUIRED IMPORTED_TARGET libmongoc-1.0)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
pkg_check_modules(JWT REQUIRED IMPORTED_TARGET libjwt)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
if(SB_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
# libnova (sunrise/sunset in core/sun.c) ships no .pc file in Debian: find it by hand.
find_path(LIBNOVA_INCLUDE_DIR libnova/solar.h REQUIRED)
find_library(LIBNOVA_LIBRARY nova REQUIRED)
add_library(sb_libnova INTERFACE IMPORTED)
target_include_directories(sb_libnova INTERFACE ${LIBNOVA_INCLUDE_DIR})
target_link_libraries(sb_libnova INTERFACE ${LIBNOVA_LIBRARY})
