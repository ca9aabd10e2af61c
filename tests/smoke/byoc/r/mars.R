# AWS's example entry point: `train` fits MARS (mda) on the `train` channel, `serve` runs plumber on 8080.
library(mda)
library(jsonlite)
library(plumber)

prefix <- '/opt/ml'
input_path <- paste(prefix, 'input/data', sep='/')
output_path <- paste(prefix, 'output', sep='/')
model_path <- paste(prefix, 'model', sep='/')
param_path <- paste(prefix, 'input/config/hyperparameters.json', sep='/')
training_path <- paste(input_path, 'train', sep='/')

train <- function() {
    params <- read_json(param_path)
    target <- params$target
    degree <- if (!is.null(params$degree)) as.numeric(params$degree) else 2
    files <- list.files(path=training_path, full.names=TRUE)
    training_data <- do.call(rbind, lapply(files, read.csv))
    training_X <- model.matrix(~., training_data[, colnames(training_data) != target])
    factor_levels <- lapply(training_data[, sapply(training_data, is.factor), drop=FALSE], function(x) {levels(x)})
    model <- mars(x=training_X, y=training_data[, target], degree=degree)
    mars_model <- model[!(names(model) %in% c('x', 'residuals', 'fitted.values'))]
    attributes(mars_model)$class <- 'mars'
    save(mars_model, factor_levels, file=paste(model_path, 'mars_model.RData', sep='/'))
    print(summary(mars_model))
    write('success', file=paste(output_path, 'success', sep='/'))
}

serve <- function() {
    app <- plumb(paste(prefix, 'plumber.R', sep='/'))
    app$run(host='0.0.0.0', port=8080)
}

args <- commandArgs()
if (any(grepl('train', args))) {
    train()
}
if (any(grepl('serve', args))) {
    serve()
}
