@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
0.00,0.50,1.00:0.0,-1.0,-2.0:up
1,2:up
