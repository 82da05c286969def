// Lets a library target exist while its folder is still empty (see CMakeLists.txt).
