# The plumber API of AWS's example: /ping answers an empty string, /invocations loads the model on each request.

#' @get /ping
function() {
    return('')
}

#' @param req The request
#' @post /invocations
function(req) {
    load(paste('/opt/ml', 'model', 'mars_model.RData', sep='/'))
    conn <- textConnection(gsub('\\\\n', '\n', req$postBody))
    data <- read.csv(conn)
    close(conn)
    scoring_X <- model.matrix(~., data, xlev=factor_levels)
    return(paste(predict(mars_model, scoring_X, row.names=FALSE), collapse=','))
}
