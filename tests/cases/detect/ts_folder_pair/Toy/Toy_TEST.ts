@problemName Toy
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
0.00,0.50,1.00,1.50:0.0,-1.0,-2.0,-3.0:up
0.00,0.50,1.00,1.50,2.00:0.0,-1.0,-2.0,-3.0,-4.0:down
0.00,0.50,1.00,1.50:0.0,-1.0,-2.0,-3.0:up
0.00,0.50,1.00,1.50,2.00:0.0,-1.0,-2.0,-3.0,-4.0:down
