// brisque_peer.cpp - OpenCV's BRISQUE (cv::quality::QualityBRISQUE, opencv_contrib) on image files:
// the peer that src/enhance/brisque.c is compared against (bench/quality/brisque.py). Built by that
// script with g++ and pkg-config opencv4; never linked into enhance.
//
//   brisque_peer [--model M.yml] [--range R.yml] [--features] [--kernel] IMAGE...
//
// Prints one line per image: path, score (%.6f), CPU milliseconds of compute() (process CPU
// time, decode excluded; OpenCV limited to one thread, as ours is). --features adds OpenCV's 36
// features (QualityBRISQUE::computeFeatures); --kernel prints getGaussianKernel(7, 7/6, CV_32F).
// Images are read as 8-bit BGR without EXIF rotation (libvips does not rotate either).
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality.hpp>

static double cpu_ms()
{
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    std::string model = "/usr/share/opencv4/quality/brisque_model_live.yml";
    std::string range = "/usr/share/opencv4/quality/brisque_range_live.yml";
    bool features = false;
    std::vector<std::string> images;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--range") && i + 1 < argc)
            range = argv[++i];
        else if (!strcmp(argv[i], "--features"))
            features = true;
        else if (!strcmp(argv[i], "--kernel")) {
            cv::Mat k = cv::getGaussianKernel(7, 7. / 6., CV_32F);
            for (int j = 0; j < 7; j++)
                printf("%.9e%c", k.at<float>(j), j == 6 ? '\n' : ' ');
        } else
            images.push_back(argv[i]);
    }
    cv::setNumThreads(1);
    cv::Ptr<cv::quality::QualityBRISQUE> q = cv::quality::QualityBRISQUE::create(model, range);
    int rc = 0;
    for (const std::string &path : images) {
        cv::Mat img = cv::imread(path, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
        if (img.empty()) {
            fprintf(stderr, "brisque_peer: cannot read %s\n", path.c_str());
            rc = 1;
            continue;
        }
        double t0 = cpu_ms();
        cv::Scalar s = q->compute(img);
        double t1 = cpu_ms();
        printf("%s\t%.6f\t%.3f", path.c_str(), s[0], t1 - t0);
        if (features) {
            cv::Mat f;
            cv::quality::QualityBRISQUE::computeFeatures(img, f);
            for (int j = 0; j < f.cols; j++)
                printf("%c%.9g", j ? ' ' : '\t', f.at<float>(0, j));
        }
        printf("\n");
    }
    return rc;
}
